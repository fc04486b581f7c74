/**
 * The nats-server configuration roam ships (deploy/nats/nats.conf, used by docker-compose.yml
 * and the Kubernetes manifests), generated from the bus roles in libs/messaging/src/accounts.ts.
 * `pnpm nats:config` rewrites it; test/deploy/nats-config.test.ts fails when it drifts.
 * Passwords are not in the file: nats-server reads them from ROAM_NATS_PASSWORD_<APP>.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { renderNatsConfig } from '@roam/messaging';

export const shippedNatsConfigPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'deploy/nats/nats.conf',
);

/** The shipped file: JetStream in /data, monitoring on 8222 (the health check's /healthz). */
export const shippedNatsConfig = (): string =>
  renderNatsConfig({ port: 4222, storeDir: '/data', httpPort: 8222 });

// Run as `node bench/run.mjs scripts/nats-config.ts`; imported by the drift test, it writes nothing.
if (process.argv.some((arg) => arg.endsWith('scripts/nats-config.ts'))) {
  writeFileSync(shippedNatsConfigPath, shippedNatsConfig());
  console.log(`wrote ${shippedNatsConfigPath}`);
}
