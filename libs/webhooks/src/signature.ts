import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing, shared by the notifier that
 * signs and by receivers that verify, so the two sides cannot drift apart.
 */

const SECRET_PREFIX = 'whsec_';
const SIGNATURE_VERSION = 'v1';
/** Standard Webhooks recommends at least 24 random bytes; 32 costs nothing more. */
const SECRET_BYTES = 32;

export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export type WebhookVerificationReason =
  | 'missing-headers'
  | 'invalid-timestamp'
  | 'timestamp-too-old'
  | 'timestamp-too-new'
  | 'invalid-signature'
  | 'invalid-secret'
  | 'invalid-payload';

/** Why a webhook was refused; `reason` is stable, the message is for people. */
export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key: the base64 part of `whsec_…` decoded (a bare base64 string is accepted too). */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, ''))
    throw new WebhookVerificationError('invalid-secret', 'the secret is not whsec_<base64>');
  return key;
}

export interface SignInput {
  /** The `webhook-id`: the same on every retry of one delivery. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string | Buffer;
}

/** `v1,<base64 HMAC-SHA256(key, "${id}.${timestamp}.${body}")>`. */
export function signWebhook(secret: string, input: SignInput): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${input.id}.${input.timestamp}.`)
    .update(input.body)
    .digest('base64');
  return `${SIGNATURE_VERSION},${mac}`;
}

/**
 * The three headers of one attempt. With several secrets (during a rotation grace period) the
 * signature header carries one signature per secret, space-separated, so a receiver holding
 * either the old or the new secret accepts it.
 */
export function webhookHeaders(
  secrets: readonly string[],
  input: SignInput,
): Record<(typeof WEBHOOK_HEADERS)[keyof typeof WEBHOOK_HEADERS], string> {
  if (secrets.length === 0) throw new Error('webhookHeaders needs at least one secret');
  return {
    [WEBHOOK_HEADERS.id]: input.id,
    [WEBHOOK_HEADERS.timestamp]: String(input.timestamp),
    [WEBHOOK_HEADERS.signature]: secrets.map((secret) => signWebhook(secret, input)).join(' '),
  };
}

/** Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type HeaderSource =
  { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way. Default 300 s (replay protection). */
  toleranceSeconds?: number;
  /** Clock for tests. */
  now?: Date | number;
}

/**
 * Checks a received webhook and returns its parsed JSON body. Throws
 * `WebhookVerificationError` when a header is missing, the timestamp is outside the tolerance
 * (a replay, or a badly wrong clock), or no `v1` signature matches `secret`. Pass the body
 * exactly as received (raw bytes or string), before any JSON parsing.
 */
export function verifyWebhook<T = unknown>(
  secret: string,
  headers: HeaderSource,
  body: string | Buffer,
  options: VerifyOptions = {},
): T {
  const id = header(headers, WEBHOOK_HEADERS.id);
  const timestampHeader = header(headers, WEBHOOK_HEADERS.timestamp);
  const signatures = header(headers, WEBHOOK_HEADERS.signature);
  if (!id || !timestampHeader || !signatures) {
    throw new WebhookVerificationError(
      'missing-headers',
      'webhook-id, webhook-timestamp and webhook-signature are all required',
    );
  }
  if (!/^\d{1,12}$/.test(timestampHeader)) {
    throw new WebhookVerificationError(
      'invalid-timestamp',
      'webhook-timestamp is not unix seconds',
    );
  }
  const timestamp = Number(timestampHeader);
  const now = Math.floor(Number(options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (timestamp < now - tolerance) {
    throw new WebhookVerificationError('timestamp-too-old', 'webhook-timestamp is too old');
  }
  if (timestamp > now + tolerance) {
    throw new WebhookVerificationError('timestamp-too-new', 'webhook-timestamp is in the future');
  }
  const expected = Buffer.from(signWebhook(secret, { id, timestamp, body }).slice(3), 'base64');
  const matched = signatures.split(' ').some((candidate) => {
    const [version, mac] = candidate.split(',', 2);
    if (version !== SIGNATURE_VERSION || !mac) return false;
    const given = Buffer.from(mac, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matched) {
    throw new WebhookVerificationError('invalid-signature', 'no signature matches the secret');
  }
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as T;
  } catch {
    throw new WebhookVerificationError('invalid-payload', 'the body is not JSON');
  }
}

/**
 * What an endpoint's stored signing secret is sealed with (see `SecretBox` in `@roam/config`):
 * bound to the endpoint, so a sealed secret copied onto another endpoint's row does not open.
 */
export function webhookSecretContext(endpointId: string): string {
  return `webhook-secret:${endpointId}`;
}
