import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from './support/harness.js';

/**
 * Preemption by node (docs/scheduling.md, "making room on a node"): a tenant without a cohort,
 * with room in its quota, whose low-priority jobs fill the cluster's only node. Its
 * high-priority job waits for capacity, not quota, and preempts one of them to make room on
 * that node; /explain and job.preempted say on which node, for which job.
 */
describe('preemption by node', () => {
  let h: Harness;
  let a: string;

  beforeAll(async () => {
    h = await startHarness(
      'node-preemption',
      {},
      {
        world: {
          pools: [{ name: 'tiny', nodes: 1, capacity: { cpu: '4', memory: '16Gi', pods: '110' } }],
        },
      },
    );
    a = await register(h.url, 'room-a', {
      max_cpu: 16,
      max_memory_gi: 64,
      max_concurrent_jobs: 10,
    });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const submit = async (sleep: number, priority: string) => {
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['sleep', String(sleep)],
        resources: { cpu: '2', memory: '1Gi' },
        priority_class: priority,
      },
      a,
    );
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const job = (id: string) => h.prisma.job.findUniqueOrThrow({ where: { id } });

  it("evicts the tenant's own lower-priority job from the full node, not by quota", async () => {
    // The simulator runs `sleep` 200× faster: the low jobs run 20 s, the high one 2 s.
    const low1 = await submit(4000, 'low');
    const low2 = await submit(4000, 'low');
    await eventually(
      'both low-priority jobs to run, filling the node',
      async () => {
        const jobs = await Promise.all([job(low1), job(low2)]);
        if (jobs.some((j) => j.status !== 'running'))
          throw new Error(jobs.map((j) => j.phase).join());
        return true;
      },
      { timeoutMs: 60_000 },
    );
    const newest = [await job(low1), await job(low2)].sort(
      (x, y) => y.admittedAt!.getTime() - x.admittedAt!.getTime(),
    )[0]!;

    const high = await submit(400, 'high');
    const preempted = await eventually(
      'the newest low-priority job to be preempted',
      async () => {
        const row = await job(newest.id);
        if (row.preemptions !== 1) throw new Error(`${row.phase}/${row.reason ?? ''}`);
        return row;
      },
      { timeoutMs: 60_000 },
    );
    // Only one: the other low job keeps running (one 2-CPU slot was enough).
    const other = await job(newest.id === low1 ? low2 : low1);
    expect(other.preemptions).toBe(0);

    const events = await h.prisma.event.findMany({
      where: { subject: `jobs/${preempted.id}`, type: subjects.job.preempted },
    });
    expect(events).toHaveLength(1);
    const data = (events[0]!.envelope as { data: { message: string } }).data;
    expect(data.message).toMatch(
      new RegExp(
        `^Preempted to make room on node \\S+ for job ${high} of tenant room-a, with higher priority \\(100 > -100\\)`,
      ),
    );
    const explained = await call(
      h.url,
      'GET',
      `/api/v1/jobs/${preempted.id}/explain`,
      undefined,
      a,
    );
    expect(explained.status).toBe(200);
    expect(explained.body.last_preemption.message).toContain(`for job ${high} of tenant room-a`);

    await eventually(
      'the high-priority job to run and succeed',
      async () => {
        const row = await job(high);
        if (row.status !== 'succeeded') throw new Error(`${row.phase}/${row.reason ?? ''}`);
        return true;
      },
      { timeoutMs: 60_000 },
    );
    const rerun = await eventually(
      'the preempted job to run again and succeed',
      async () => {
        const row = await job(preempted.id);
        if (row.status !== 'succeeded') throw new Error(`${row.phase}/${row.reason ?? ''}`);
        return row;
      },
      { timeoutMs: 90_000 },
    );
    expect(rerun.attempt).toBe(2);
    expect(rerun.preemptions).toBe(1);
  }, 240_000);
});
