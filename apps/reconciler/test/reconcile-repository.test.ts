// The reconciler's reads and writes of `jobs` that are plain SQL, against Postgres.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import type { Outbox } from '@roam/messaging';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import { ReconcileRepository } from '../src/reconcile.repository.js';

describe('ReconcileRepository (Postgres)', () => {
  let db: TestDatabase;
  let repository: ReconcileRepository;

  beforeAll(async () => {
    db = await createTestDatabase('reconcile_repository');
    await db.prisma.tenant.create({ data: { id: 'acme', namespace: 'roam-acme' } });
    // Neither read nor mark writes messages: the outbox is never reached.
    repository = new ReconcileRepository(db.prisma, {} as Outbox);
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** A job of tenant `acme` with these columns (queued, attempt 1, unless they say otherwise). */
  const job = async (
    name: string,
    columns: {
      status?: 'pending' | 'running' | 'succeeded';
      phase?: string;
      reason?: string;
      admitted?: boolean;
      placement?: Record<string, string>;
      attempt?: number;
    } = {},
  ): Promise<string> => {
    const id = randomUUID();
    const { admitted, ...rest } = columns;
    await db.prisma.job.create({
      data: {
        id,
        tenantId: 'acme',
        name,
        spec: jobSpecSchema.parse({ image: 'busybox', command: ['true'] }),
        cpuMillis: 10,
        memoryBytes: 1n << 20n,
        ...rest,
        ...(admitted ? { admittedAt: new Date() } : {}),
      },
    });
    return id;
  };

  describe('activeIds: what a resync pages through', () => {
    it('pages through running and confirmed jobs, not those still waiting for their Job', async () => {
      const placement = { namespace: 'roam-acme', job: 'j' };
      // Every job of this file that is not created here stays queued: never active.
      await job('queued', { phase: 'Submitted' });
      await job('admitted, Job not confirmed', {
        phase: 'Admitted',
        reason: 'ContainerCreating',
        admitted: true,
      });
      const confirmed = await job('admitted, Job confirmed', {
        phase: 'Admitted',
        reason: 'ContainerCreating',
        admitted: true,
        placement,
      });
      const inKueue = await job('waiting in Kueue with its Job', {
        phase: 'Submitted',
        placement,
      });
      const running = await job('running', {
        status: 'running',
        phase: 'Running',
        admitted: true,
        placement,
      });
      await job('finished', { status: 'succeeded', phase: 'Succeeded', admitted: true, placement });

      const all: string[] = [];
      for (let after: string | undefined; ;) {
        const page = await repository.activeIds(after, 2);
        all.push(...page);
        if (page.length < 2) break;
        after = page.at(-1);
      }
      expect(all.sort()).toEqual([confirmed, inKueue, running].sort());
    });
  });

  // The cleanup mark (`cleanup_at`) says the current attempt's Kubernetes Job is gone: a pass
  // that deleted a failed attempt's Job and started a retry must not mark the job cleaned, or the
  // new attempt's Job would never be deleted.
  describe('markCleaned', () => {
    const cleanupAt = async (id: string) =>
      (await db.prisma.job.findUniqueOrThrow({ where: { id } })).cleanupAt;

    it("marks a job cleaned only when the deleted Job was its current attempt's", async () => {
      const retried = await job('job-2', { attempt: 2 });
      const done = await job('job-1', { attempt: 1 });
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
});
