import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { StorageRepository } from '../src/storage.repository.js';
import { storageEnv } from '../src/storage.config.js';
import { StorageModule } from '../src/storage.module.js';
import { StorageService } from '../src/storage.service.js';

/** How many times the reconciler has kept a Job due for deletion because it was not stored. */
const deferred = async () =>
  (await metrics.kubeJobDeletionsDeferred.get()).values.reduce((sum, v) => sum + v.value, 0);

describe('nothing lost at any rate: Jobs are deleted only once their logs and results are stored', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let storage: RoamApp<unknown> | undefined;
  let key: string;
  let tenant: string;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('storage_durability', {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: `roam-${randomBytes(4).toString('hex')}`,
    });
    tenant = `dur-${randomBytes(3).toString('hex')}`;
    key = await register(h.url, tenant, { max_cpu: 8, max_memory_gi: 8, max_concurrent_jobs: 4 });
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  const submit = async (spec: Record<string, unknown>): Promise<string> => {
    const res = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', resources: { cpu: '250m', memory: '64Mi' }, ...spec },
      key,
    );
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const finished = (id: string, status: 'succeeded' | 'failed') =>
    eventually(
      `the job to be ${status}`,
      async () => {
        const job = await h.prisma.job.findUniqueOrThrow({ where: { id } });
        if (job.status !== status && ['succeeded', 'failed', 'cancelled'].includes(job.status))
          throw new Error(`the job ended ${job.status}: ${job.reason} ${job.message}`);
        return job.status === status ? job : undefined;
      },
      { timeoutMs: 30_000 },
    );
  const kubeJob = (id: string, attempt = 1) =>
    h.kube.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: `roam-${tenant}`,
      name: `roam-${id}-${attempt}`,
    });
  const startStorage = async () => {
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, PORT: '0', STORAGE_SWEEP_INTERVAL_MS: '200' },
    });
    return storage;
  };

  it('keeps a finished Job past its TTL while storage is stopped, then archives and deletes it', async () => {
    const id = await submit({
      command: ['sh', '-c', 'echo kept while storage was down'],
      ttl_seconds_after_finished: 0,
    });
    const job = await finished(id, 'succeeded');

    // The reconciler has looked at the Job past its TTL, more than once, and kept it.
    const before = await deferred();
    await eventually('the reconciler to hold the Job back twice', async () => {
      return (await deferred()) >= before + 2 || undefined;
    });
    expect(await kubeJob(id)).toBeDefined();
    expect((await h.prisma.job.findUniqueOrThrow({ where: { id } })).cleanupAt).toBeNull();
    expect(await h.prisma.logArchive.count({ where: { jobId: id } })).toBe(0);

    // The backlog says how far behind storage is.
    const backlog = await new StorageRepository(h.prisma).backlog();
    expect(backlog.jobs).toBeGreaterThanOrEqual(1);
    expect(backlog.oldestFinishedAt!.getTime()).toBeLessThanOrEqual(job.finishedAt!.getTime());

    const app = await startStorage();
    const archived = await eventually(
      'the log to be archived',
      async () =>
        (await h.prisma.logArchive.findFirst({ where: { jobId: id, attempt: 1 } })) ?? undefined,
    );
    expect(archived).toMatchObject({
      storageKey: `tenants/${tenant}/jobs/${id}/logs/attempt-1.log`,
      error: null,
    });
    // The stored mark follows the batch's log rows, in a statement of its own.
    const stored = await eventually(
      'the job to be recorded stored',
      async () => (await h.prisma.storedJob.findUnique({ where: { jobId: id } })) ?? undefined,
    );
    expect(stored).toMatchObject({ resultsError: null });
    await eventually('the Job to be deleted once stored', async () => !(await kubeJob(id)));
    await eventually(
      'the cleanup to be recorded',
      async () => (await h.prisma.job.findUniqueOrThrow({ where: { id } })).cleanupAt !== null,
    );
    const logs = await call(h.url, 'GET', `/api/v1/jobs/${id}/logs`, undefined, key);
    expect(logs.headers.get('roam-log-source')).toBe('archive');
    expect(logs.body).toContain('kept while storage was down');

    // Caught up: the health detail and the metric say so.
    const health = await eventually('the backlog to be worked off', async () => {
      const res = await call(app.url, 'GET', '/health/storage');
      return res.status === 200 && res.body.backlog_jobs === 0 ? res.body : undefined;
    });
    expect(health).toMatchObject({ status: 'ok', oldest_unstored_age_seconds: 0 });
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(/^roam_storage_backlog_jobs 0$/m);
    expect(text).toMatch(/^roam_storage_backlog_oldest_age_seconds 0$/m);
  });

  it('archives every attempt of a retried job, each readable after its Job is gone', async () => {
    expect(storage).toBeDefined();
    const id = await submit({
      command: [
        'sh',
        '-c',
        'echo attempt $ROAM_ATTEMPT starts; test "$ROAM_ATTEMPT" = 1 && exit 9; echo attempt $ROAM_ATTEMPT ok',
      ],
      retry_policy: { max_attempts: 2, backoff: { initial_seconds: 0, factor: 1, max_seconds: 0 } },
      ttl_seconds_after_finished: 0,
    });
    await finished(id, 'succeeded');
    const rows = await eventually('both attempts archived', async () => {
      const found = await h.prisma.logArchive.findMany({
        where: { jobId: id },
        orderBy: { attempt: 'asc' },
      });
      return found.length === 2 ? found : undefined;
    });
    expect(rows.map((row) => [row.attempt, row.storageKey, row.error])).toEqual([
      [1, `tenants/${tenant}/jobs/${id}/logs/attempt-1.log`, null],
      [2, `tenants/${tenant}/jobs/${id}/logs/attempt-2.log`, null],
    ]);
    await eventually('both Jobs to be deleted', async () => {
      return !(await kubeJob(id, 1)) && !(await kubeJob(id, 2));
    });
    for (const [attempt, text] of [
      [1, 'attempt 1 starts'],
      [2, 'attempt 2 ok'],
    ] as const) {
      const logs = await call(
        h.url,
        'GET',
        `/api/v1/jobs/${id}/logs?attempt=${attempt}`,
        undefined,
        key,
      );
      expect(logs.status).toBe(200);
      expect(logs.headers.get('roam-log-source')).toBe('archive');
      expect(logs.headers.get('roam-log-attempt')).toBe(String(attempt));
      expect(logs.body).toContain(text);
    }
  });

  it('stores a job twice without a second row or object, and records a log that is gone', async () => {
    const id = await submit({ command: ['sh', '-c', 'echo once'], ttl_seconds_after_finished: 0 });
    await finished(id, 'succeeded');
    await eventually('the Job to be deleted once stored', async () => !(await kubeJob(id)));
    const repository = storage!.app.get(StorageRepository);
    // Forget that it was stored: a second run archives again, to the same key, one row each.
    await h.prisma.storedJob.delete({ where: { jobId: id } });
    await h.prisma.logArchive.deleteMany({ where: { jobId: id } });
    await storage!.app.get(StorageService).storeJob(id);
    await storage!.app.get(StorageService).storeJob(id);
    const rows = await h.prisma.logArchive.findMany({ where: { jobId: id } });
    // The pods went with the Job: the log cannot be read again, and the row says why.
    expect(rows).toEqual([
      expect.objectContaining({ attempt: 1, error: expect.stringContaining('could not be read') }),
    ]);
    expect(await h.prisma.storedJob.count({ where: { jobId: id } })).toBe(1);
    expect((await repository.backlog()).jobs).toBe(0);
  });
});
