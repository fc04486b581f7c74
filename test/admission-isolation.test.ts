import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from './support/harness.js';

/**
 * Admission with the whole stack and the simulator: a per-tenant window that a noisy tenant
 * cannot fill for everyone, and nodes with only three pod slots each. Every job sleeps for
 * good, so what holds a slot never changes under the test.
 */
describe('admission under a noisy tenant and scarce pod slots', () => {
  let h: Harness;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness(
      'admission_isolation',
      { ADMISSION_MAX_PENDING: '20', ADMISSION_MAX_PENDING_PER_TENANT: '10' },
      {
        world: {
          pools: [{ name: 'slots', nodes: 2, capacity: { cpu: '16', memory: '64Gi', pods: '3' } }],
        },
      },
    );
    const limits = { max_cpu: 100, max_memory_gi: 100 };
    keys.noisy = await register(h.url, 'noisy', { ...limits, max_concurrent_jobs: 2 });
    keys.quiet = await register(h.url, 'quiet', { ...limits, max_concurrent_jobs: 1 });
    keys.packed = await register(h.url, 'packed', { ...limits, max_concurrent_jobs: 100 });
    await eventually(
      'the tenants to be ready',
      async () => (await h.prisma.tenant.count({ where: { status: 'ready' } })) === 3,
    );
  });

  afterAll(async () => {
    await h?.close();
  });

  const spec = (priority = 0) => ({
    image: 'busybox',
    command: ['sleep', '100000'],
    resources: { cpu: '100m', memory: '64Mi' },
    priority,
  });
  const batch = async (tenant: string, n: number, priority = 0) => {
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: Array.from({ length: n }, () => spec(priority)) },
      keys[tenant],
    );
    expect(response.status).toBe(201);
  };
  const holding = (tenantId?: string) =>
    h.prisma.job.count({
      where: {
        ...(tenantId ? { tenantId } : {}),
        OR: [{ status: 'running' }, { status: 'pending', admittedAt: { not: null } }],
      },
    });

  it("admits a quiet tenant's job while a noisy tenant's backlog at priority 1000 is deeper than the whole window", async () => {
    // 50 pending jobs at priority 1000, more than the cycle's total window of 20; only two may
    // run (its concurrency limit), so the rest stay pending at the front of any global order.
    await batch('noisy', 50, 1000);
    await eventually('the noisy tenant to hold its two slots', async () => {
      const held = await holding('noisy');
      if (held !== 2) throw new Error(`noisy holds ${held}`);
      return held;
    });
    await batch('quiet', 1);
    await eventually('the quiet tenant’s job to be admitted', async () => {
      const held = await holding('quiet');
      if (held !== 1) throw new Error('the quiet job is still waiting');
      return held;
    });
    expect(
      await h.prisma.job.count({
        where: { tenantId: 'noisy', status: 'pending', admittedAt: null },
      }),
    ).toBe(48);
  });

  it("explains a job beyond its tenant's window by its place in that tenant's queue", async () => {
    const waiting = await h.prisma.job.findMany({
      where: { tenantId: 'noisy', status: 'pending', admittedAt: null },
      orderBy: { id: 'asc' },
      select: { id: true },
    });
    const explain = (id: string) =>
      call(h.url, 'GET', `/api/v1/jobs/${id}/explain`, undefined, keys.noisy);
    const head = await explain(waiting[0]!.id);
    expect(head.body).toMatchObject({
      pending: true,
      reason: 'ConcurrencyLimit',
      position: { tenant: 1 },
    });
    const last = await explain(waiting[47]!.id);
    expect(last.status).toBe(200);
    expect(last.body.pending).toBe(true);
    expect(last.body.summary).toMatch(/^number 48 of 48 in tenant noisy's queue/);
  });

  it('never admits more jobs onto a node than its pod slots', async () => {
    // Two nodes of three pod slots: noisy's two and quiet's one leave three.
    await batch('packed', 6);
    const queued = await eventually('three packed jobs to wait for a pod slot', async () => {
      const rows = await h.prisma.job.findMany({
        where: { tenantId: 'packed', phase: 'Queued', reason: 'InsufficientCapacity' },
        select: { message: true },
      });
      if (rows.length !== 3) throw new Error(`${rows.length} packed jobs queued for capacity`);
      return rows;
    });
    expect(queued[0]!.message).toMatch(/all 3 of its pod slots taken/);
    expect(await holding('packed')).toBe(3);
    expect(await holding()).toBe(6);
    await eventually('every admitted job to run', async () => {
      const running = await h.prisma.job.count({ where: { status: 'running' } });
      if (running !== 6) throw new Error(`${running} of 6 running`);
      return running;
    });
  });
});
