import { ConfigError } from './load.js';

/** The NATS keys of `commonEnv`, as read. */
export interface NatsEnv {
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_NKEY_SEED?: string;
  NATS_CREDS?: string;
  NATS_TLS_CA?: string;
  NATS_TLS_CERT?: string;
  NATS_TLS_KEY?: string;
}

export interface NatsConnectionSettings {
  credentials?: { user?: string; password?: string; nkeySeed?: string; credsFile?: string };
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/**
 * How this process authenticates to NATS, checked as a whole: at most one way to authenticate,
 * a password only with a user, a client certificate only with its key. Nothing set = the
 * anonymous plain connection a development server accepts.
 */
export function natsConnectionSettings(app: string, env: NatsEnv): NatsConnectionSettings {
  const issues: { key: string; message: string }[] = [];
  const methods = [
    env.NATS_USER && 'NATS_USER',
    env.NATS_NKEY_SEED && 'NATS_NKEY_SEED',
    env.NATS_CREDS && 'NATS_CREDS',
  ].filter(Boolean);
  if (methods.length > 1) {
    issues.push({ key: 'NATS_USER', message: `set only one of ${methods.join(', ')}` });
  }
  if (env.NATS_PASSWORD && !env.NATS_USER) {
    issues.push({ key: 'NATS_PASSWORD', message: 'needs NATS_USER' });
  }
  if (env.NATS_USER && !env.NATS_PASSWORD) {
    issues.push({ key: 'NATS_PASSWORD', message: 'required with NATS_USER' });
  }
  if (Boolean(env.NATS_TLS_CERT) !== Boolean(env.NATS_TLS_KEY)) {
    issues.push({ key: 'NATS_TLS_CERT', message: 'NATS_TLS_CERT and NATS_TLS_KEY go together' });
  }
  if (issues.length > 0) throw new ConfigError(app, issues);

  const settings: NatsConnectionSettings = {};
  if (env.NATS_CREDS) settings.credentials = { credsFile: env.NATS_CREDS };
  else if (env.NATS_NKEY_SEED) settings.credentials = { nkeySeed: env.NATS_NKEY_SEED };
  else if (env.NATS_USER) {
    settings.credentials = { user: env.NATS_USER, password: env.NATS_PASSWORD };
  }
  if (env.NATS_TLS_CA || env.NATS_TLS_CERT) {
    settings.tls = {
      ...(env.NATS_TLS_CA ? { caFile: env.NATS_TLS_CA } : {}),
      ...(env.NATS_TLS_CERT ? { certFile: env.NATS_TLS_CERT, keyFile: env.NATS_TLS_KEY } : {}),
    };
  }
  return settings;
}
