import { mkdir } from 'node:fs/promises';

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

/** A nats-server with JetStream storing under `storeDir`, listening on 127.0.0.1 only. */
export async function natsServerSpec(options: {
  executable: string;
  port: number;
  storeDir: string;
}): Promise<ChildSpec> {
  const command = await findExecutable(options.executable);
  if (!command) throw new NatsServerMissingError(options.executable);
  await mkdir(options.storeDir, { recursive: true });
  return {
    name: 'nats',
    command,
    args: [
      '-js',
      '-sd',
      options.storeDir,
      '-a',
      '127.0.0.1',
      '-p',
      String(options.port),
      '-n',
      'roam-dev',
    ],
  };
}
