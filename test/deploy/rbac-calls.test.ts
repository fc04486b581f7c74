import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { failoverEnv } from '../../apps/failover/src/failover.config.js';
import { FailoverModule } from '../../apps/failover/src/failover.module.js';
import { ADMIN_TOKEN, call, type Harness, register, startHarness } from '../support/harness.js';
import { offloadEnv } from '../../apps/offload/src/offload.config.js';
import { OffloadModule } from '../../apps/offload/src/offload.module.js';
import { storageEnv } from '../../apps/storage/src/storage.config.js';
import { StorageModule } from '../../apps/storage/src/storage.module.js';
import { render } from './kustomize-render.js';
import { allows, rulesOf } from './rbac-rules.js';

/**
 * The RBAC in deploy/ must cover every Kubernetes call each worker really makes: the workers
 * run real workloads against the simulator, which records each request's identity (the port's
 * User-Agent `roam-<app>`), verb and resource; every recorded call must be allowed by a rule
 * bound to that app's ServiceAccount in the rendered dev overlay.
 */
describe('RBAC covers every call each app makes', () => {
  let h: Harness;
  let s3: RunningS3rver;
  let s3dir: string;
  const workers: RoamApp<unknown>[] = [];

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-rbac-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('rbac_calls', { S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'roam-rbac' });
    const env = { ...h.env, PORT: '0' };
    workers.push(
      await createRoamApp({
        name: 'storage',
        schema: storageEnv,
        module: StorageModule,
        env,
      }),
      await createRoamApp({
        name: 'failover',
        schema: failoverEnv,
        module: FailoverModule,
        env: { ...env, COMPUTE_API_URL: h.sim.computeUrl, GCE_PROJECT: 'roam-sim' },
      }),
      await createRoamApp({
        name: 'offload',
        schema: offloadEnv,
        module: OffloadModule,
        env: {
          ...env,
          RUNPOD_API_URL: `${h.sim.runpodUrl}/v1`,
          RUNPOD_API_KEY: 'sim-key',
          MAX_PENDING_TIME_SECONDS: '1',
          MAX_GPU_PRICE: '5',
        },
      }),
    );
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  it('allows every recorded call', async () => {
    const key = await register(h.url, 'rbac-a', {
      max_cpu: 64,
      max_memory_gi: 256,
      max_concurrent_jobs: 10,
      max_gpu: 8,
      offload_budget_usd: null,
    });
    await eventually(
      'tenant ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'rbac-a' } }))?.status === 'ready',
    );
    const submit = async (spec: Record<string, unknown>) =>
      (await call(h.url, 'POST', '/api/v1/jobs', { image: 'busybox', ...spec }, key)).body
        .id as string;
    const ok = await submit({ command: ['sh', '-c', 'echo hi'], ttl_seconds_after_finished: 0 });
    const bad = await submit({ command: ['sh', '-c', 'exit 2'] });
    const long = await submit({ command: ['sleep', '100000'] });
    const gpu = await submit({
      command: ['sh', '-c', 'echo gpu'],
      resources: { cpu: '1', memory: '1Gi', gpu: 1 },
      offload: 'required',
    });
    await eventually(
      'the long job to run',
      async () =>
        (await call(h.url, 'GET', `/api/v1/jobs/${long}`, undefined, key)).body.status ===
        'running',
    );
    await call(h.url, 'GET', `/api/v1/jobs/${long}/logs`, undefined, key);
    await call(h.url, 'GET', `/api/v1/jobs/${long}/explain`, undefined, key);
    await call(h.url, 'GET', '/tenants/me/dashboard', undefined, key);
    await call(h.url, 'GET', '/admin/cluster', undefined, ADMIN_TOKEN);
    await call(h.url, 'GET', '/admin/jobs', undefined, ADMIN_TOKEN);
    await call(h.url, 'DELETE', `/api/v1/jobs/${long}`, undefined, key);
    for (const id of [ok, bad, gpu]) {
      await eventually(`job ${id} to end`, async () =>
        ['succeeded', 'failed'].includes(
          (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body.status,
        ),
      );
    }
    for (const type of ['cordon_nodepool', 'uncordon_nodepool']) {
      const action = await call(
        h.url,
        'POST',
        '/actions',
        { id: `rbac-${type}`, requestor: 'test', reason: 'rbac', type, node_pool: 'tpu-pool' },
        ADMIN_TOKEN,
      );
      expect(action.status).toBe(200);
    }
    await eventually(
      'the storage worker to archive logs',
      async () => (await h.prisma.logArchive.count()) > 0,
    );

    const objects = render('deploy/overlays/dev').objects;
    const calls = h.sim.calls.list('roam-');
    const apps = new Set(calls.map((c) => c.agent));
    // The workload reached every app that talks to Kubernetes.
    expect([...apps].sort()).toEqual([
      'roam-failover',
      'roam-gateway',
      'roam-offload',
      'roam-reconciler',
      'roam-scheduler',
      'roam-storage',
    ]);
    const missing = calls
      .filter((c) => !allows(rulesOf(objects, c.agent), c))
      .map((c) => `${c.agent}: ${c.verb} ${c.group ? `${c.group}/` : ''}${c.resource}`)
      .sort();
    expect(missing).toEqual([]);
  });
});
