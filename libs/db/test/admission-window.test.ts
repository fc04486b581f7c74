import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uuidv7 } from '@roam/domain';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import { pendingJobs, queueStanding } from '../src/index.js';

/**
 * The admission window against real Postgres: a noisy tenant with far more pending jobs than
 * the window, all at priority 1000, beside quiet tenants at priority 0.
 */
describe('pendingJobs: a window per tenant', () => {
  let db: TestDatabase;
  const noisy: string[] = [];
  let quiet: string[] = [];

  const tenant = (id: string, status: 'ready' | 'provisioning' = 'ready') =>
    db.prisma.tenant.create({ data: { id, namespace: `roam-${id}`, status } });
  const jobs = async (tenantId: string, n: number, priority = 0) => {
    const rows = Array.from({ length: n }, () => ({
      id: uuidv7(),
      tenantId,
      name: 'j',
      priority,
      spec: {},
      cpuMillis: 100,
      memoryBytes: 1n << 20n,
    }));
    await db.prisma.job.createMany({ data: rows });
    return rows.map((row) => row.id);
  };

  beforeAll(async () => {
    db = await createTestDatabase('admission_window');
    await tenant('noisy');
    await tenant('quiet');
    await tenant('silent');
    await tenant('unready', 'provisioning');
    quiet = await jobs('quiet', 2);
    noisy.push(...(await jobs('noisy', 300, 1000)));
    // Lower-priority jobs of the noisy tenant rank after its priority-1000 ones.
    await jobs('noisy', 20, 5);
    // An admitted job holds no place in the queue.
    await db.prisma.job.update({ where: { id: noisy[0]! }, data: { admittedAt: new Date() } });
    await jobs('unready', 3);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("reads each ready tenant's first jobs by its own priority order, however deep another's backlog", async () => {
    const window = await pendingJobs(db.prisma, { perTenant: 10, total: 100 });
    const of = (tenantId: string) => window.filter((j) => j.tenantId === tenantId).map((j) => j.id);
    expect(of('quiet')).toEqual(quiet);
    expect(of('noisy')).toEqual(noisy.slice(1, 11));
    expect(of('unready')).toEqual([]);
    expect(window).toHaveLength(12);
  });

  it('cuts the total round-robin by tenant: every first job before anyone’s second', async () => {
    const window = await pendingJobs(db.prisma, { perTenant: 10, total: 5 });
    expect(window.map((j) => j.id)).toEqual([noisy[1], quiet[0], noisy[2], quiet[1], noisy[3]]);
  });

  it('skips a retry until its backoff has passed', async () => {
    await db.prisma.job.update({
      where: { id: quiet[0]! },
      data: { retryAt: new Date(Date.now() + 3_600_000) },
    });
    try {
      const window = await pendingJobs(db.prisma, { perTenant: 10, total: 100 });
      expect(window.filter((j) => j.tenantId === 'quiet').map((j) => j.id)).toEqual([quiet[1]]);
    } finally {
      await db.prisma.job.update({ where: { id: quiet[0]! }, data: { retryAt: null } });
    }
  });

  it("tells where a job beyond the window stands in its tenant's queue", async () => {
    expect(await queueStanding(db.prisma, 'noisy', noisy[250]!)).toEqual({
      position: 250,
      waiting: 319,
      tenantReady: true,
    });
    expect(await queueStanding(db.prisma, 'unready', (await jobs('unready', 1))[0]!)).toEqual({
      position: 4,
      waiting: 4,
      tenantReady: false,
    });
    // Another tenant's job, or one no longer waiting, has no standing.
    expect(await queueStanding(db.prisma, 'quiet', noisy[250]!)).toBeUndefined();
    expect(await queueStanding(db.prisma, 'noisy', noisy[0]!)).toBeUndefined();
  });
});
