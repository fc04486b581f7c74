// What a resync pages through: the jobs there can be something to reconcile for.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import type { Outbox } from '@roam/messaging';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import { ReconcileRepository } from '../src/reconcile.repository.js';

describe('ReconcileRepository.activeIds (Postgres)', () => {
  let db: TestDatabase;
  let repository: ReconcileRepository;

  beforeAll(async () => {
    db = await createTestDatabase('active_ids');
    await db.prisma.tenant.create({ data: { id: 'acme', namespace: 'roam-acme' } });
    // activeIds only reads: the outbox is never reached.
    repository = new ReconcileRepository(db.prisma, {} as Outbox);
  });

  afterAll(async () => {
    await db?.drop();
  });

  const job = async (
    name: string,
    state: {
      status?: 'pending' | 'running' | 'succeeded';
      phase: string;
      reason?: string;
      admitted?: boolean;
      placement?: Record<string, string>;
    },
  ): Promise<string> => {
    const id = randomUUID();
    await db.prisma.job.create({
      data: {
        id,
        tenantId: 'acme',
        name,
        spec: jobSpecSchema.parse({ image: 'busybox', command: ['true'] }),
        cpuMillis: 10,
        memoryBytes: 1n << 20n,
        status: state.status ?? 'pending',
        phase: state.phase,
        ...(state.reason ? { reason: state.reason } : {}),
        ...(state.admitted ? { admittedAt: new Date() } : {}),
        ...(state.placement ? { placement: state.placement } : {}),
      },
    });
    return id;
  };

  it('pages through running and confirmed jobs, not those still waiting for their Job', async () => {
    const placement = { namespace: 'roam-acme', job: 'j' };
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
    const inKueue = await job('waiting in Kueue with its Job', { phase: 'Submitted', placement });
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
