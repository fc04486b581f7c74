import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { ADMIN_TOKEN, call, type Harness, register, startHarness } from './support/harness.js';

/**
 * Two tenants in one cohort on a 4-CPU cluster, each guaranteed 2 CPU (docs/scheduling.md,
 * "two tenants borrowing and reclaiming"). Tenant a fills the idle half by borrowing; when b
 * submits within its guarantee, a's borrowed job is preempted (job.preempted, /explain says by
 * whom and why, no retry used), b's job runs, and a's job runs again later and succeeds.
 */
describe('guaranteed quota, borrowing and preemption', () => {
  let h: Harness;
  let a: string;
  let b: string;

  beforeAll(async () => {
    h = await startHarness(
      'borrowing',
      {},
      {
        world: {
          pools: [{ name: 'tiny', nodes: 1, capacity: { cpu: '4', memory: '16Gi', pods: '110' } }],
        },
      },
    );
    const limits = { max_cpu: 2, max_memory_gi: 8, max_concurrent_jobs: 10 };
    a = await register(h.url, 'lend-a', limits);
    b = await register(h.url, 'lend-b', limits);
    for (const id of ['lend-a', 'lend-b']) {
      const joined = await call(
        h.url,
        'PATCH',
        `/api/v1/tenants/${id}`,
        { cohort: 'research' },
        ADMIN_TOKEN,
      );
      expect(joined.status).toBe(200);
      expect(joined.body.cohort).toBe('research');
    }
    await eventually(
      'both tenants ready in the cohort',
      async () =>
        (await h.prisma.tenant.count({ where: { status: 'ready', cohort: 'research' } })) === 2,
    );
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const submit = async (key: string, sleep: number, extra: Record<string, unknown> = {}) => {
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['sleep', String(sleep)],
        resources: { cpu: '2', memory: '1Gi' },
        ...extra,
      },
      key,
    );
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const job = (id: string) => h.prisma.job.findUniqueOrThrow({ where: { id } });

  it('lends idle guarantee, reclaims it by preemption, and reruns the preempted job', async () => {
    // The simulator runs `sleep` 200× faster: a's jobs run 20 s, b's 2 s.
    const a1 = await submit(a, 4000);
    const a2 = await submit(a, 4000);
    await eventually(
      'a to run both jobs, one on borrowed quota',
      async () => {
        const jobs = await Promise.all([job(a1), job(a2)]);
        if (jobs.some((j) => j.status !== 'running'))
          throw new Error(jobs.map((j) => j.phase).join());
        return true;
      },
      { timeoutMs: 60_000 },
    );
    const admittedLast = [await job(a1), await job(a2)].sort(
      (x, y) => y.admittedAt!.getTime() - x.admittedAt!.getTime(),
    )[0]!;

    const b1 = await submit(b, 400);
    const preempted = await eventually(
      'a borrowed job to be preempted',
      async () => {
        const row = await job(admittedLast.id);
        if (row.preemptions !== 1) throw new Error(`${row.phase}/${row.reason ?? ''}`);
        return row;
      },
      { timeoutMs: 60_000 },
    );
    const events = await h.prisma.event.findMany({
      where: { subject: `jobs/${preempted.id}`, type: subjects.job.preempted },
    });
    expect(events).toHaveLength(1);
    const data = (events[0]!.envelope as { data: { reason: string; message: string } }).data;
    expect(data.reason).toBe('Preempted');
    expect(data.message).toMatch(
      new RegExp(`^Preempted by job ${b1} of tenant lend-b reclaiming its guaranteed cpu quota`),
    );

    const explained = await call(
      h.url,
      'GET',
      `/api/v1/jobs/${preempted.id}/explain`,
      undefined,
      a,
    );
    expect(explained.status).toBe(200);
    expect(explained.body.last_preemption.message).toContain(
      `Preempted by job ${b1} of tenant lend-b`,
    );

    await eventually(
      'b to run and succeed',
      async () => {
        const row = await job(b1);
        if (row.status !== 'succeeded') throw new Error(row.phase);
        return true;
      },
      { timeoutMs: 60_000 },
    );
    const rerun = await eventually(
      "a's preempted job to run again and succeed",
      async () => {
        const row = await job(preempted.id);
        if (row.status !== 'succeeded') throw new Error(`${row.phase}/${row.reason ?? ''}`);
        return row;
      },
      { timeoutMs: 90_000 },
    );
    // A preemption is not a failure: a new attempt, but no retry and no backoff.
    expect(rerun.attempt).toBe(2);
    expect(rerun.preemptions).toBe(1);
    const history = await h.prisma.jobHistory.findMany({
      where: { jobId: preempted.id },
      orderBy: { seq: 'asc' },
    });
    const phases = history.map((row) => (row.reason ? `${row.phase}/${row.reason}` : row.phase));
    expect(phases).toContain('Queued/Preempted');
    expect(phases).not.toContain('Queued/RetryBackoff');
    expect(
      await h.prisma.event.count({
        where: { subject: `jobs/${preempted.id}`, type: subjects.job.retried },
      }),
    ).toBe(0);
  }, 180_000);

  it.each<[string, string, string, unknown, string | undefined, number]>([
    [
      'a negative borrowing limit',
      'PATCH',
      '/api/v1/tenants/lend-a',
      { borrowing_limit: { cpu: -1 } },
      ADMIN_TOKEN,
      400,
    ],
    [
      'an invalid cohort name',
      'PATCH',
      '/api/v1/tenants/lend-a',
      { cohort: 'Research_Team' },
      ADMIN_TOKEN,
      400,
    ],
    [
      'a tenant changing its own cohort',
      'PATCH',
      '/api/v1/tenants/lend-a',
      { cohort: 'mine' },
      'a',
      403,
    ],
    [
      'a tenant defining priority classes',
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: [] },
      'a',
      403,
    ],
    [
      'redefining a built-in class',
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: [{ name: 'high', value: 5 }] },
      ADMIN_TOKEN,
      400,
    ],
    [
      'a class value out of range',
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: [{ name: 'urgent', value: 5000 }] },
      ADMIN_TOKEN,
      400,
    ],
    [
      'too many classes',
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: Array.from({ length: 33 }, (_, i) => ({ name: `c${i}`, value: i })) },
      ADMIN_TOKEN,
      400,
    ],
  ])(
    'refuses %s with a problem and changes nothing',
    async (_, method, path, body, who, status) => {
      const key = who === 'a' ? a : who;
      const response = await call(h.url, method, path, body, key);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const tenant = await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'lend-a' } });
      expect(tenant.cohort).toBe('research');
      expect(tenant.borrowCpuMillis).toBeNull();
      expect(await h.prisma.priorityClass.count()).toBe(0);
    },
  );

  it('maps a priority class to its priority, and refuses an unknown one with a 422', async () => {
    const defined = await call(
      h.url,
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: [{ name: 'urgent', value: 500 }] },
      ADMIN_TOKEN,
    );
    expect(defined.status).toBe(200);
    expect(defined.body.items).toEqual([
      { name: 'low', value: -100, builtin: true },
      { name: 'normal', value: 0, builtin: true },
      { name: 'high', value: 100, builtin: true },
      { name: 'urgent', value: 500, builtin: false },
    ]);
    const high = await job(await submit(b, 10, { priority_class: 'high' }));
    expect(high.priority).toBe(100);
    const urgent = await job(await submit(b, 10, { priority_class: 'urgent' }));
    expect(urgent.priority).toBe(500);

    const before = await h.prisma.job.count();
    const unknown = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['true'],
        resources: { cpu: '1', memory: '1Gi' },
        priority_class: 'whenever',
      },
      b,
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toMatch(
      /"whenever" is not a priority class \(known: low, normal, high, urgent\)/,
    );
    expect(await h.prisma.job.count()).toBe(before);
  });
});
