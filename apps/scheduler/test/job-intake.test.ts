import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import { createTestDatabase, type TestDatabase } from '@roam/testing';
import pino from 'pino';

import { JobIntakeService } from '../src/jobs/job-intake.service.js';

describe('JobIntakeService', () => {
  let db: TestDatabase;
  let intake: JobIntakeService;
  const ids = Array.from({ length: 50 }, () => randomUUID());

  beforeAll(async () => {
    db = await createTestDatabase('job_intake');
    await db.prisma.tenant.create({ data: { id: 'acme', namespace: 'roam-acme' } });
    const spec = jobSpecSchema.parse({ image: 'busybox', command: ['true'] });
    await db.prisma.job.createMany({
      data: ids.map((id, i) => ({
        id,
        tenantId: 'acme',
        name: `job-${i}`,
        spec,
        cpuMillis: 10,
        memoryBytes: 1n << 20n,
      })),
    });
    intake = new JobIntakeService(db.prisma, pino({ level: 'silent' }));
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records submits handled together in shared statements, each answered for its own job', async () => {
    const unknown = randomUUID();
    const outcomes = await Promise.all([
      ...ids.map((id) => intake.receive(id, 1)),
      intake.receive(unknown, 1),
    ]);
    expect(outcomes.slice(0, ids.length)).toEqual(ids.map(() => 'recorded'));
    expect(outcomes[ids.length]).toBe('unknown-job');
    expect(await db.prisma.job.count({ where: { seenAt: null } })).toBe(0);

    const seen = await db.prisma.job.findUniqueOrThrow({ where: { id: ids[0]! } });
    // A redelivery changes nothing.
    expect(await intake.receive(ids[0]!, 2)).toBe('already-seen');
    const again = await db.prisma.job.findUniqueOrThrow({ where: { id: ids[0]! } });
    expect(again.seenAt).toEqual(seen.seenAt);
  });
});
