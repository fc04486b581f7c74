// The cleanup mark (`cleanup_at`) says the current attempt's Kubernetes Job is gone: a pass that
// deleted a failed attempt's Job and started a retry must not mark the job cleaned, or the new
// attempt's Job would never be deleted.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import type { Outbox } from '@roam/messaging';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import { ReconcileRepository } from '../src/reconcile.repository.js';

describe('ReconcileRepository.markCleaned (Postgres)', () => {
  let db: TestDatabase;
  let repository: ReconcileRepository;

  beforeAll(async () => {
    db = await createTestDatabase('mark_cleaned');
    await db.prisma.tenant.create({ data: { id: 'acme', namespace: 'roam-acme' } });
    // markCleaned writes no messages: the outbox is never reached.
    repository = new ReconcileRepository(db.prisma, {} as Outbox);
  });

  afterAll(async () => {
    await db?.drop();
  });

  const newJob = async (attempt: number): Promise<string> => {
    const id = randomUUID();
    await db.prisma.job.create({
      data: {
        id,
        tenantId: 'acme',
        name: `job-${attempt}`,
        spec: jobSpecSchema.parse({ image: 'busybox', command: ['true'] }),
        cpuMillis: 10,
        memoryBytes: 1n << 20n,
        attempt,
      },
    });
    return id;
  };
  const cleanupAt = async (id: string) =>
    (await db.prisma.job.findUniqueOrThrow({ where: { id } })).cleanupAt;

  it("marks a job cleaned only when the deleted Job was its current attempt's", async () => {
    const retried = await newJob(2);
    const done = await newJob(1);
    await repository.markCleaned([
      // Attempt 1's Job of a job now on attempt 2: its retry's Job is still to be cleaned.
      { jobId: retried, attempt: 1 },
      { jobId: done, attempt: 1 },
    ]);
    expect(await cleanupAt(retried)).toBeNull();
    expect(await cleanupAt(done)).toBeInstanceOf(Date);

    const first = await cleanupAt(done);
    await repository.markCleaned([
      { jobId: retried, attempt: 2 },
      { jobId: done, attempt: 1 },
    ]);
    expect(await cleanupAt(retried)).toBeInstanceOf(Date);
    // Marked once: a second delete of the same Job keeps the first time.
    expect(await cleanupAt(done)).toEqual(first);
  });
});
