import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from './support/harness.js';

/**
 * Two tenants with equal weight on a cluster with room for four 1-CPU jobs. Tenant A fills
 * it first; as A's jobs end, dominant-resource fair share hands the freed slots to B until
 * both hold two, and it stays that way while both have work waiting. The test ends A's jobs
 * itself (by cancelling them), so which slot frees when never depends on the machine's speed.
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

  const submit = async (key: string) => {
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['sleep', '100000'],
        resources: { cpu: '1', memory: '1Gi' },
      },
      key,
    );
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const holding = (tenantId: string) =>
    h.prisma.job.findMany({
      where: {
        tenantId,
        OR: [{ status: 'running' }, { status: 'pending', admittedAt: { not: null } }],
      },
      orderBy: { admittedAt: 'asc' },
      select: { id: true },
    });
  const running = async (tenantId: string) => (await holding(tenantId)).length;
  const cancel = async (key: string, id: string) => {
    const response = await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    expect(response.body.status).toBe('cancelled');
  };
  const slots = async (expected: [number, number], what: string) =>
    eventually(what, async () => {
      const counts = [await running('fair-a'), await running('fair-b')];
      if (counts[0] !== expected[0] || counts[1] !== expected[1])
        throw new Error(`A holds ${counts[0]}, B holds ${counts[1]}`);
      return counts;
    });

  it('converges to two slots each, and never gives A a slot B was owed', async () => {
    for (let i = 0; i < 6; i += 1) await submit(a);
    await eventually('A to fill the cluster', async () => {
      const held = await running('fair-a');
      if (held !== 4) throw new Error(`A holds ${held} of the 4 slots`);
      return true;
    });
    for (let i = 0; i < 4; i += 1) await submit(b);
    // The cluster is full: all of B's jobs wait.
    expect(
      await h.prisma.job.count({
        where: { tenantId: 'fair-b', status: 'pending', admittedAt: null },
      }),
    ).toBe(4);

    // Two of A's jobs end: both freed slots go to B, although A has two jobs waiting too.
    const [first, second] = await holding('fair-a');
    await cancel(a, first!.id);
    await cancel(a, second!.id);
    expect(await slots([2, 2], 'two running jobs per tenant')).toEqual([2, 2]);

    // A third ends: A now holds less than B, so the slot goes back to A.
    const [third] = await holding('fair-a');
    await cancel(a, third!.id);
    expect(await slots([2, 2], 'A to take back the slot it is owed')).toEqual([2, 2]);

    // B's first two jobs were admitted before A's fifth: the freed slots went to B first.
    const admitted = await h.prisma.job.findMany({
      where: { admittedAt: { not: null } },
      orderBy: { admittedAt: 'asc' },
      select: { tenantId: true },
    });
    expect(admitted.map((job) => job.tenantId).slice(4)).toEqual(['fair-b', 'fair-b', 'fair-a']);
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
