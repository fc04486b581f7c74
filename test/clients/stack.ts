// The stack the client suites talk to: the harness (gateway, scheduler, reconciler, simulator)
// plus s3rver and the storage worker, so inputs uploads and results downloads work end to end,
// and the failover worker, so admin actions are planned and run.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';

import { failoverEnv } from '../../apps/failover/src/failover.config.js';
import { FailoverModule } from '../../apps/failover/src/failover.module.js';
import { storageEnv } from '../../apps/storage/src/storage.config.js';
import { StorageModule } from '../../apps/storage/src/storage.module.js';
import { type Harness, startHarness } from '../support/harness.js';

export interface ClientStack extends Harness {
  close(): Promise<void>;
}

export async function startClientStack(
  name: string,
  extraEnv: Record<string, string> = {},
): Promise<ClientStack> {
  const s3dir = await mkdtemp(join(tmpdir(), `roam-${name}-s3-`));
  let s3: RunningS3rver | undefined;
  let h: Harness | undefined;
  let storage: RoamApp<unknown> | undefined;
  let failover: RoamApp<unknown> | undefined;
  const close = async () => {
    await failover?.close();
    await storage?.close();
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  };
  try {
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness(name, {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: `roam-${randomBytes(4).toString('hex')}`,
      EVENTS_POLL_INTERVAL_MS: '50',
      ...extraEnv,
    });
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, PORT: '0' },
    });
    failover = await createRoamApp({
      name: 'failover',
      schema: failoverEnv,
      module: FailoverModule,
      env: {
        ...h.env,
        PORT: '0',
        COMPUTE_API_URL: h.sim.computeUrl,
        GCE_PROJECT: 'roam-sim',
        GKE_CLUSTER: 'sim',
      },
    });
    return { ...h, close };
  } catch (error) {
    await close();
    throw error;
  }
}
