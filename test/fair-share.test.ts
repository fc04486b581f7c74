import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../apps/gateway/test/harness.js';

/**
 * Two tenants with equal weight on a cluster with room for four 1-CPU jobs. Tenant A fills
 * it first; as A's short jobs end, dominant-resource fair share hands the freed slots to B
 * until both hold two, and it stays that way while both have work waiting.
 */
describe('fair share between tenants', () => {
  let h: Harness;
  let a: string;
  let b: string;

  beforeAll(async () => {
    h = await startHarness(
      'fairshare',
      {},
      {
        world: {
          pools: [{ name: 'tiny', nodes: 1, capacity: { cpu: '4', memory: '16Gi', pods: '110' } }],
        },
      },
    );
    a = await register(h.url, 'fair-a', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_concurrent_jobs: 100,
    });
    b = await register(h.url, 'fair-b', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_concurrent_jobs: 100,
    });
    await eventually(
      'both tenants ready',
      async () => (await h.prisma.tenant.count({ where: { status: 'ready' } })) === 2,
    );
  });

  afterAll(async () => {
    await h?.close();
  });

  const submit = async (key: string, seconds: number) => {
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['sleep', String(seconds)],
        resources: { cpu: '1', memory: '1Gi' },
      },
      key,
    );
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const running = async (tenantId: string) =>
    h.prisma.job.count({
      where: {
        tenantId,
        OR: [{ status: 'running' }, { status: 'pending', admittedAt: { not: null } }],
      },
    });

  it('converges to two slots each, and never gives A a slot B was owed', async () => {
    // A: three short jobs and three long ones; at speed 200, 200 simulated s = 1 real s.
    for (const seconds of [200, 400, 600, 100_000, 100_000, 100_000]) await submit(a, seconds);
    await eventually('A to fill the cluster', async () => (await running('fair-a')) === 4);
    for (let i = 0; i < 4; i += 1) await submit(b, 100_000);

    const converged = await eventually(
      'two running jobs per tenant',
      async () => {
        const counts = [await running('fair-a'), await running('fair-b')];
        return counts[0] === 2 && counts[1] === 2 && counts;
      },
      { timeoutMs: 30_000 },
    );
    expect(converged).toEqual([2, 2]);

    // B's first two jobs were admitted before A's fifth: the freed slots went to B first.
    const admitted = await h.prisma.job.findMany({
      where: { admittedAt: { not: null } },
      orderBy: { admittedAt: 'asc' },
      select: { tenantId: true },
    });
    expect(admitted.map((job) => job.tenantId).slice(4, 6)).toEqual(['fair-b', 'fair-b']);
    // Both still have work waiting; neither is starved.
    expect(
      await h.prisma.job.count({
        where: { tenantId: 'fair-a', status: 'pending', admittedAt: null },
      }),
    ).toBeGreaterThan(0);
    expect(
      await h.prisma.job.count({
        where: { tenantId: 'fair-b', status: 'pending', admittedAt: null },
      }),
    ).toBeGreaterThan(0);
    const waiting = await call(h.url, 'GET', '/api/v1/jobs?status=pending', undefined, b);
    const queued = (waiting.body.items as { phase: string; reason: string }[]).find(
      (job) => job.phase === 'Queued',
    );
    expect(queued?.reason).toBe('InsufficientCapacity');
  });
});
