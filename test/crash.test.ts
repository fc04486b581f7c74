import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayEnv } from '@roam/config';
import { subjects } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
import { Kube, type KubernetesObject } from '@roam/kube';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { type RunningSimulator, startSimulator } from '@roam/sim';
import {
  createTestDatabase,
  deleteTestStreams,
  eventually,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';

import { GatewayModule } from '../apps/gateway/src/gateway.module.js';
import { ADMIN_TOKEN, call, register } from './support/harness.js';
import { type AppProcess, killHard, startApp, stopApp } from './support/processes.js';

/**
 * kill -9 the scheduler and the reconciler while jobs flow, start them again, and check that
 * every job still ends in the right state, none is lost, and no Kubernetes Job was created
 * twice. The workers run as real processes; the gateway and the simulator in this process.
 */
describe('crash recovery of the scheduler and the reconciler', () => {
  const prefix = testSubjectPrefix();
  const workers: AppProcess[] = [];
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let sim: RunningSimulator;
  let kube: Kube;
  let gateway: RoamApp<unknown>;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roam-crash-'));
    db = await createTestDatabase('crash');
    prisma = db.prisma;
    sim = await startSimulator({
      port: 0,
      speed: 100,
      kubeconfigPath: join(dir, 'kubeconfig'),
      log: () => {},
    });
    kube = Kube.fromKubeconfig(sim.kubeconfigPath);
    env = {
      DATABASE_URL: db.url,
      NATS_URL: testNatsUrl(),
      NATS_SUBJECT_PREFIX: prefix,
      PORT: '0',
      LOG_LEVEL: 'info',
      KUBECONFIG: sim.kubeconfigPath,
      ROAM_REGISTRATION: 'open',
      ROAM_ADMIN_TOKEN: ADMIN_TOKEN,
      RECONCILE_INTERVAL_MS: '300',
      ADMISSION_INTERVAL_MS: '200',
      ADMISSION_CREATE_GRACE_MS: '500',
      OUTBOX_RELAY_INTERVAL_MS: '200',
      LOST_GRACE_MS: '5000',
    };
    gateway = await createRoamApp({
      name: 'gateway',
      schema: gatewayEnv,
      module: GatewayModule,
      env: { ...env, LOG_LEVEL: 'silent' },
    });
    workers.push(await startApp('scheduler', env), await startApp('reconciler', env));
  });

  afterAll(async () => {
    for (const worker of workers) await stopApp(worker);
    await gateway?.close();
    await sim?.close();
    await db?.drop();
    await deleteTestStreams(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  const restart = async (name: string) => {
    const index = workers.findIndex((worker) => worker.name === name);
    await killHard(workers[index]!);
    workers[index] = await startApp(name, env);
  };

  it('finishes every job exactly once after kill -9 of each worker mid-run', async () => {
    const key = await register(gateway.url, 'crash-a', {
      max_cpu: 64,
      max_memory_gi: 128,
      max_concurrent_jobs: 12,
    });
    await eventually(
      'the tenant to be ready',
      async () =>
        (await prisma.tenant.findUnique({ where: { id: 'crash-a' } }))?.status === 'ready',
    );

    const ids: { id: string; fails: boolean }[] = [];
    for (let i = 0; i < 36; i += 1) {
      const fails = i % 6 === 5;
      const command = fails
        ? ['sh', '-c', 'sleep 20; exit 3']
        : ['sh', '-c', `sleep ${20 + (i % 5) * 10}; echo done`];
      const response = await call(
        gateway.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', command, resources: { cpu: '500m', memory: '256Mi' } },
        key,
      );
      expect(response.status).toBe(201);
      ids.push({ id: response.body.id as string, fails });
    }

    // Mid-run: some jobs admitted, most not finished.
    await eventually(
      'a first admission',
      async () => (await prisma.job.count({ where: { admittedAt: { not: null } } })) >= 4,
    );
    await restart('scheduler');
    await eventually(
      'some jobs to run',
      async () =>
        (await prisma.job.count({ where: { status: { in: ['running', 'succeeded'] } } })) >= 6,
    );
    await restart('reconciler');
    await eventually(
      'more jobs to finish',
      async () =>
        (await prisma.job.count({ where: { status: { in: ['succeeded', 'failed'] } } })) >= 12,
    );
    await restart('scheduler');
    await restart('reconciler');

    const finished = await eventually(
      'every job to finish',
      async () => {
        const rows = await prisma.job.findMany({ where: { id: { in: ids.map((job) => job.id) } } });
        return rows.every((row) => row.status === 'succeeded' || row.status === 'failed') && rows;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    for (const { id, fails } of ids) {
      const row = finished.find((job) => job.id === id)!;
      expect({ id, status: row.status, exitCode: row.exitCode }).toEqual({
        id,
        status: fails ? 'failed' : 'succeeded',
        exitCode: fails ? 3 : 0,
      });
      expect(row.attempt).toBe(1);
    }

    // One Kubernetes Job per roam job: a second create was adopted, never duplicated.
    const jobs = await kube.list<KubernetesObject>('batch/v1', 'Job', {
      namespace: 'roam-crash-a',
      labelSelector: 'app.kubernetes.io/managed-by=roam',
    });
    const perJob = new Map<string, number>();
    for (const job of jobs.items) {
      const id = job.metadata?.labels?.['roam.dev/job-id'] ?? '';
      perJob.set(id, (perJob.get(id) ?? 0) + 1);
    }
    expect([...perJob.values()].every((count) => count === 1)).toBe(true);
    expect(perJob.size).toBe(ids.length);

    // Exactly one terminal event per job, whatever was replayed.
    const terminal = await prisma.event.groupBy({
      by: ['subject'],
      where: { type: { in: [subjects.job.succeeded, subjects.job.failed] } },
      _count: true,
    });
    expect(terminal).toHaveLength(ids.length);
    expect(terminal.every((group) => group._count === 1)).toBe(true);
  });
});
