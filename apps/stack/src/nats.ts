import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  busApps,
  type BusApp,
  natsPasswordVariable,
  natsUserOf,
  renderNatsConfig,
} from '@roam/messaging';

import { findExecutable } from './probes.js';
import type { ChildSpec } from './supervisor.js';

export class NatsServerMissingError extends Error {
  constructor(executable: string) {
    super(
      `no NATS answers at 127.0.0.1:4222 and \`${executable}\` is not on PATH. Install it ` +
        '(Debian/Ubuntu: `apt-get install nats-server`; macOS: `brew install nats-server`; ' +
        'or a release from https://github.com/nats-io/nats-server/releases), start one with ' +
        '`nats-server -js`, or set NATS_URL.',
    );
    this.name = 'NatsServerMissingError';
  }
}

/** What an app needs to log in to the stack's own nats-server. */
export type NatsLogins = Record<BusApp, { NATS_USER: string; NATS_PASSWORD: string }>;

/**
 * Per-app passwords, made once and kept in the state directory (mode 0600), so a restarted
 * stack and its still-running apps agree.
 */
async function passwords(stateDir: string): Promise<Record<BusApp, string>> {
  const file = join(stateDir, 'nats-passwords.json');
  let kept: Partial<Record<string, string>> = {};
  try {
    kept = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  } catch {
    // First start (or an unreadable file): new passwords below.
  }
  const result = {} as Record<BusApp, string>;
  for (const app of busApps) {
    const password = kept[app];
    // A leading letter: nats-server reads the variable's value as a config token.
    result[app] =
      password && /^p[0-9a-f]{32}$/.test(password)
        ? password
        : `p${randomBytes(16).toString('hex')}`;
  }
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`, { mode: 0o600 });
  return result;
}

/**
 * A nats-server with JetStream storing under `<stateDir>/nats`, listening on 127.0.0.1 only,
 * with roam's generated authorization (one user per app, docs/security.md): the same
 * permissions as in production, so a subject an app does not own fails here first.
 */
export async function natsServerSpec(options: {
  executable: string;
  port: number;
  stateDir: string;
}): Promise<{ spec: ChildSpec; logins: NatsLogins }> {
  const command = await findExecutable(options.executable);
  if (!command) throw new NatsServerMissingError(options.executable);
  const storeDir = join(options.stateDir, 'nats');
  await mkdir(storeDir, { recursive: true });
  const configFile = join(options.stateDir, 'nats.conf');
  await writeFile(
    configFile,
    renderNatsConfig({ host: '127.0.0.1', port: options.port, storeDir }),
  );
  const secrets = await passwords(options.stateDir);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const logins = {} as NatsLogins;
  for (const app of busApps) {
    env[natsPasswordVariable(app)] = secrets[app];
    logins[app] = { NATS_USER: natsUserOf(app), NATS_PASSWORD: secrets[app] };
  }
  return {
    spec: { name: 'nats', command, args: ['-c', configFile, '-n', 'roam-dev'], env },
    logins,
  };
}
