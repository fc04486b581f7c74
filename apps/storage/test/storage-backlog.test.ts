// The storage backlog is kept by the database (docs/storage.md#how-the-worker-keeps-up): what
// the sweep and the backlog gauge read is the jobs waiting, not every job that ever finished.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import { StorageRepository } from '../src/storage.repository.js';

describe('storage_backlog (Postgres)', () => {
  let db: TestDatabase;
  let repository: StorageRepository;

  beforeAll(async () => {
    db = await createTestDatabase('storage_backlog');
    await db.prisma.tenant.create({ data: { id: 'acme', namespace: 'roam-acme' } });
    repository = new StorageRepository(db.prisma);
  });

  afterAll(async () => {
    await db?.drop();
  });

  const spec = jobSpecSchema.parse({ image: 'busybox', command: ['true'] });
  const newJobs = async (n: number, phase = 'Submitted'): Promise<string[]> => {
    const ids = Array.from({ length: n }, () => randomUUID());
    const finished = phase !== 'Submitted';
    await db.prisma.job.createMany({
      data: ids.map((id, i) => ({
        id,
        tenantId: 'acme',
        name: `job-${i}`,
        spec,
        cpuMillis: 10,
        memoryBytes: 1n << 20n,
        status: finished ? 'succeeded' : 'pending',
        phase,
        ...(finished ? { finishedAt: new Date() } : {}),
      })),
    });
    return ids;
  };
  /** Moves jobs to a phase in one statement, as the ledger's batched form does. */
  const move = (ids: string[], status: string, phase: string, at = new Date()) =>
    db.prisma.$executeRaw`
      UPDATE jobs SET status = ${status}::"JobStatus", phase = ${phase},
        reason = CASE WHEN ${status} = 'failed' THEN 'Error' END,
        finished_at = CASE WHEN ${status} IN ('succeeded', 'failed', 'cancelled')
                           THEN ${at}::timestamptz END
      WHERE id = ANY(${ids}::uuid[])`;
  const backlogIds = async () =>
    (await db.prisma.storageBacklog.findMany({ orderBy: { jobId: 'asc' } })).map((r) => r.jobId);

  it('holds the jobs that finished and are not stored, in the statements that change them', async () => {
    const running = await newJobs(3);
    await move(running, 'running', 'Running');
    expect(await backlogIds()).toEqual([]);

    await move(running, 'succeeded', 'Succeeded');
    expect(await backlogIds()).toEqual([...running].sort());
    expect(await repository.backlog()).toEqual({
      jobs: 3,
      oldestFinishedAt: expect.any(Date),
    });
    expect((await repository.unstored(10)).sort()).toEqual([...running].sort());

    // Stored: out of the backlog in the same statement.
    await repository.markStored(
      running.slice(0, 2).map((jobId) => ({ jobId, resultsError: null })),
    );
    expect(await backlogIds()).toEqual([running[2]]);
    expect(await db.prisma.storedJob.count({ where: { jobId: { in: running } } })).toBe(2);
    expect(await repository.backlog()).toMatchObject({ jobs: 1 });
    expect(await repository.unstored(10)).toEqual([running[2]]);
    await repository.markStored([{ jobId: running[2]!, resultsError: null }]);
    expect(await repository.backlog()).toEqual({ jobs: 0, oldestFinishedAt: null });
  });

  it('takes a row inserted finished, and not a stored job that finishes again (a rerun)', async () => {
    const [inserted] = await newJobs(1, 'Succeeded');
    expect(await backlogIds()).toEqual([inserted]);
    await repository.markStored([{ jobId: inserted!, resultsError: null }]);

    // An array's failed element is rerun after it was stored: it finishes again, already stored.
    await move([inserted!], 'pending', 'Submitted');
    await move([inserted!], 'failed', 'Failed');
    expect(await backlogIds()).toEqual([]);
    expect(await repository.unstored(10)).toEqual([]);
  });

  it('counts a job rerun while it waited only once it has finished again, from then', async () => {
    const [job] = await newJobs(1);
    const first = new Date('2030-01-01T00:00:00Z');
    const second = new Date('2030-01-01T01:00:00Z');
    await move([job!], 'failed', 'Failed', first);
    await move([job!], 'pending', 'Submitted');
    expect(await backlogIds()).toEqual([job]);
    expect(await repository.backlog()).toEqual({ jobs: 0, oldestFinishedAt: null });
    expect(await repository.unstored(10)).toEqual([]);
    await move([job!], 'succeeded', 'Succeeded', second);
    expect(await repository.unstored(10)).toEqual([job]);
    expect(await repository.backlog()).toEqual({ jobs: 1, oldestFinishedAt: second });
    await repository.markStored([{ jobId: job!, resultsError: null }]);
  });

  it('loses a job stored by any writer, and forgets rows of stored jobs as it measures', async () => {
    const [one, two] = await newJobs(2);
    await move([one!, two!], 'succeeded', 'Succeeded');
    // A storage worker of the previous release writes stored_jobs alone.
    await db.prisma.$executeRaw`
      INSERT INTO stored_jobs (job_id, tenant_id) VALUES (${one}::uuid, 'acme')`;
    expect(await backlogIds()).toEqual([two]);
    // A row left for a stored job (a finish racing the stored mark) is neither counted nor
    // offered, and the measure deletes it.
    await db.prisma.$executeRaw`
      INSERT INTO stored_jobs (job_id, tenant_id) VALUES (${two}::uuid, 'acme')`;
    await db.prisma.$executeRaw`
      INSERT INTO storage_backlog (job_id, finished_at) VALUES (${two}::uuid, now())`;
    expect(await repository.unstored(10)).toEqual([]);
    expect(await repository.backlog()).toEqual({ jobs: 0, oldestFinishedAt: null });
    expect(await backlogIds()).toEqual([]);
  });
});
