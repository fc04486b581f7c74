import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

const CAP = 5;
const PROBLEM = 'https://roam.dev/problems/too-many-pending-jobs';

/**
 * MAX_PENDING_JOBS_PER_TENANT through every submit route: a submit that would take the tenant
 * over the cap is refused whole with a 429 and writes nothing. The cluster's one node has no
 * pod slots, so every job stays pending and the counts are exact.
 */
describe('the pending-jobs cap per tenant', () => {
  let h: Harness;
  let key: string;
  let other: string;

  beforeAll(async () => {
    h = await startHarness(
      'pending_cap',
      { MAX_PENDING_JOBS_PER_TENANT: String(CAP) },
      {
        world: {
          pools: [{ name: 'full', nodes: 1, capacity: { cpu: '8', memory: '32Gi', pods: '0' } }],
        },
      },
    );
    const limits = { max_cpu: 100, max_memory_gi: 100, max_concurrent_jobs: 100 };
    key = await register(h.url, 'capped', limits);
    other = await register(h.url, 'neighbour', limits);
  });

  afterAll(async () => {
    await h?.close();
  });

  const spec = { image: 'busybox', command: ['true'], resources: { cpu: '100m', memory: '64Mi' } };
  /** What a submit writes (the scheduler adds later history rows and messages of its own). */
  const written = async (tenantId: string) => ({
    jobs: await h.prisma.job.count({ where: { tenantId } }),
    history: await h.prisma.jobHistory.count({ where: { tenantId, seq: 1 } }),
    outbox: await h.prisma.outboxMessage.count({
      where: {
        subject: { contains: '.job.submit' },
        envelope: { path: ['tenantId'], equals: tenantId },
      },
    }),
  });
  const expectRefused = (
    response: { status: number; headers: Headers; body: Record<string, unknown> },
    pending: number,
    incoming: number,
  ) => {
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(response.body).toMatchObject({
      type: PROBLEM,
      status: 429,
      cap: CAP,
      pending,
      incoming,
    });
    expect(response.body.detail).toContain(`cap of ${CAP}`);
  };

  it('refuses a single submit, a batch, a template and the compat form over the cap, writing nothing', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect((await call(h.url, 'POST', '/api/v1/jobs', spec, key)).status).toBe(201);
    }
    const before = await written('capped');
    // Each submit wrote its job, first history row, command and event.
    expect(before).toEqual({ jobs: 3, history: 3, outbox: 6 });

    // 3 pending + 3 > 5: the whole batch is refused, not its first two.
    const batch = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: [spec, spec, spec] },
      key,
    );
    expectRefused(batch, 3, 3);
    expect(await written('capped')).toEqual(before);

    // Exactly up to the cap is fine.
    const fits = await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs: [spec, spec] }, key);
    expect(fits.status).toBe(201);
    const full = await written('capped');
    expect(full.jobs).toBe(CAP);

    expectRefused(await call(h.url, 'POST', '/api/v1/jobs', spec, key), CAP, 1);
    expectRefused(await call(h.url, 'POST', '/api/v1/jobs', { template: 'sumo' }, key), CAP, 1);
    const form = await fetch(`${h.url}/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'scenario_id=capped&cpu_request=0.1&memory_gi=0.1',
    });
    expectRefused(
      {
        status: form.status,
        headers: form.headers,
        body: (await form.json()) as Record<string, unknown>,
      },
      CAP,
      1,
    );
    expect(await written('capped')).toEqual(full);
  });

  it('does not touch another tenant, and lets the tenant submit again once a job leaves pending', async () => {
    expect((await call(h.url, 'POST', '/api/v1/jobs', spec, other)).status).toBe(201);

    const [first] = await h.prisma.job.findMany({
      where: { tenantId: 'capped' },
      orderBy: { id: 'asc' },
      take: 1,
    });
    const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${first!.id}`, undefined, key);
    expect(cancelled.body.status).toBe('cancelled');
    // The gateway may go on counting from memory for a moment; each refusal writes nothing.
    await eventually('a submit to fit in the room the cancel made', async () => {
      const response = await call(h.url, 'POST', '/api/v1/jobs', spec, key);
      if (response.status !== 201) throw new Error(`answered ${response.status}`);
      return response;
    });
    expect((await written('capped')).jobs).toBe(CAP + 1);
    expectRefused(await call(h.url, 'POST', '/api/v1/jobs', spec, key), CAP, 1);
  });
});
