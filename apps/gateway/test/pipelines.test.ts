import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

const quick = (command: string, extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  command: ['sh', '-c', command],
  resources: { cpu: '100m', memory: '64Mi' },
  ...extra,
});

describe('pipelines', () => {
  let h: Harness;
  let key: string;
  let other: string;
  const limits = { max_cpu: 100, max_memory_gi: 100, max_concurrent_jobs: 50 };

  beforeAll(async () => {
    h = await startHarness('pipelines', { ARRAY_MAX_SIZE: '20' });
    key = await register(h.url, 'pipe-a', limits);
    other = await register(h.url, 'pipe-b', limits);
    await tenantReady(h.prisma, 'pipe-a');
  });

  afterAll(async () => {
    await h?.close();
  });

  const post = (body: unknown, as = key) => call(h.url, 'POST', '/api/v1/pipelines', body, as);
  const get = async (id: string, as = key) =>
    call(h.url, 'GET', `/api/v1/pipelines/${id}`, undefined, as);

  it('runs prepare → simulate × N → aggregate and announces pipeline.finished', async () => {
    const submitted = await post({
      name: 'sweep',
      steps: [
        {
          name: 'aggregate',
          job: quick('echo aggregate'),
          depends_on: [{ step: 'simulate', on: 'all_succeeded' }],
        },
        {
          name: 'simulate',
          job: quick('echo $ROAM_ARRAY_INDEX'),
          array: { size: 4, parallelism: 2 },
          depends_on: [{ step: 'prepare', on: 'succeeded' }],
        },
        { name: 'prepare', job: quick('echo prepare') },
      ],
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({
      name: 'sweep',
      done: false,
      steps: [
        {
          name: 'aggregate',
          kind: 'job',
          status: 'pending',
          depends_on: [{ step: 'simulate', on: 'all_succeeded' }],
        },
        { name: 'simulate', kind: 'array', counts: { submitted: 4 } },
        { name: 'prepare', kind: 'job' },
      ],
    });
    const id = submitted.body.id as string;
    // Six jobs one after another: on a loaded machine that takes more than the default wait.
    await eventually('the pipeline done', async () => (await get(id)).body.done === true, {
      timeoutMs: 50_000,
    });
    const done = (await get(id)).body;
    expect(done).toMatchObject({
      outcome: { succeeded: 3, failed: 0, cancelled: 0 },
      counts: { succeeded: 6 },
      steps: [{ status: 'succeeded' }, { status: 'succeeded' }, { status: 'succeeded' }],
    });
    const [aggregate, , prepare] = done.steps;
    const jobOf = async (jobId: string) =>
      (await call(h.url, 'GET', `/api/v1/jobs/${jobId}`, undefined, key)).body;
    expect(new Date((await jobOf(aggregate.id)).started_at).getTime()).toBeGreaterThanOrEqual(
      new Date((await jobOf(prepare.id)).completed_at).getTime(),
    );
    const events = await eventually('pipeline.finished', async () => {
      const page = await call(
        h.url,
        'GET',
        '/api/v1/events?type=pipeline.finished',
        undefined,
        key,
      );
      return page.body.items.length > 0 ? page.body.items : undefined;
    });
    expect(events[0].event.data).toMatchObject({
      pipelineId: id,
      name: 'sweep',
      steps: 3,
      outcome: { succeeded: 3, failed: 0, cancelled: 0 },
      counts: { succeeded: 6 },
    });
    // Another tenant cannot see it.
    expect((await get(id, other)).status).toBe(404);
  });

  it('cancels what waited for a failed step, runs what waited for any end', async () => {
    const submitted = await post({
      name: 'broken',
      steps: [
        { name: 'prepare', job: quick('exit 4') },
        {
          name: 'simulate',
          job: quick('echo sim'),
          array: { size: 3 },
          depends_on: [{ step: 'prepare', on: 'succeeded' }],
        },
        {
          name: 'report',
          job: quick('echo report'),
          depends_on: [{ step: 'simulate', on: 'finished' }],
        },
      ],
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    await eventually('the pipeline done', async () => (await get(id)).body.done === true);
    expect((await get(id)).body).toMatchObject({
      outcome: { succeeded: 1, failed: 1, cancelled: 1 },
      steps: [
        { status: 'failed' },
        { status: 'cancelled', counts: { cancelled: 3 } },
        // `finished` is met by an array whose elements were all cancelled.
        { status: 'succeeded' },
      ],
    });
  });

  it('cancels a pipeline as one object', async () => {
    const submitted = await post({
      name: 'long',
      steps: [
        { name: 'wait', job: sleeper() },
        { name: 'after', job: quick('echo after'), depends_on: [{ step: 'wait', on: 'finished' }] },
      ],
    });
    const id = submitted.body.id as string;
    const cancelled = await call(h.url, 'DELETE', `/api/v1/pipelines/${id}`, undefined, key);
    expect(cancelled.status).toBe(200);
    await eventually('the pipeline done', async () => (await get(id)).body.done === true);
    expect((await get(id)).body).toMatchObject({
      outcome: { cancelled: 2 },
      steps: [
        { status: 'cancelled', reason: 'CancelledByUser' },
        { status: 'cancelled', reason: 'CancelledByUser' },
      ],
    });
  });

  it("lists the tenant's pipelines newest first, by state, page by page", async () => {
    const list = async (query: string, as = key) =>
      call(h.url, 'GET', `/api/v1/pipelines${query}`, undefined, as);
    const done = (await post({ name: 'listed-cancelled', steps: [{ name: 'a', job: sleeper() }] }))
      .body.id as string;
    await call(h.url, 'DELETE', `/api/v1/pipelines/${done}`, undefined, key);
    await eventually('the cancelled pipeline done', async () => (await get(done)).body.done);
    const running = (await post({ name: 'listed-running', steps: [{ name: 'a', job: sleeper() }] }))
      .body.id as string;

    const all = await list('');
    expect(all.status).toBe(200);
    // Newest first: the running one, then the cancelled one.
    expect(all.body.items.slice(0, 2)).toMatchObject([
      { id: running, name: 'listed-running', state: 'running', steps_total: 1, done: false },
      {
        id: done,
        state: 'cancelled',
        outcome: { succeeded: 0, failed: 0, cancelled: 1 },
        done: true,
        finished_at: expect.any(String),
      },
    ]);
    const ids = (page: { body: { items: { id: string }[] } }) => page.body.items.map((p) => p.id);
    expect(ids(await list('?state=running'))).toContain(running);
    expect(ids(await list('?state=running'))).not.toContain(done);
    expect(ids(await list('?state=cancelled'))).toContain(done);
    expect(ids(await list('?state=cancelled'))).not.toContain(running);
    expect(ids(await list('?state=succeeded'))).not.toContain(done);

    const first = await list('?limit=1');
    expect(ids(first)).toEqual([running]);
    expect(first.body.next_cursor).toBe(running);
    const second = await list(`?limit=1&cursor=${first.body.next_cursor}`);
    expect(ids(second)).toEqual([done]);

    // Another tenant's list has none of them; bad queries are a 400 problem.
    expect(ids(await list('', other))).not.toEqual(expect.arrayContaining([running]));
    expect(ids(await list('', other))).not.toContain(done);
    for (const bad of ['?state=bogus', '?limit=0', '?limit=501', '?cursor=nope', '?extra=1']) {
      const answer = await list(bad);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    await call(h.url, 'DELETE', `/api/v1/pipelines/${running}`, undefined, key);
  });

  it('refuses cycles, unknown steps and foreign ids, writing nothing', async () => {
    const theirs = await call(h.url, 'POST', '/api/v1/jobs', sleeper(), other);
    const before = await h.prisma.job.count({ where: { tenantId: 'pipe-a' } });
    const cycle = await post({
      name: 'cycle',
      steps: [
        { name: 'a', job: quick('true'), depends_on: [{ step: 'b', on: 'succeeded' }] },
        { name: 'b', job: quick('true'), depends_on: [{ step: 'a', on: 'succeeded' }] },
      ],
    });
    expect(cycle.status).toBe(400);
    expect(cycle.headers.get('content-type')).toContain('application/problem+json');
    expect(cycle.body.errors[0].message).toMatch(/cycle: a → b → a/);
    const unknown = await post({
      name: 'unknown',
      steps: [{ name: 'a', job: quick('true'), depends_on: [{ step: 'nope', on: 'succeeded' }] }],
    });
    expect(unknown.status).toBe(400);
    const wrongCondition = await post({
      name: 'wrong',
      steps: [
        { name: 'a', job: quick('true') },
        { name: 'b', job: quick('true'), depends_on: [{ step: 'a', on: 'all_succeeded' }] },
      ],
    });
    expect(wrongCondition.status).toBe(400);
    expect(wrongCondition.body.errors[0].path).toBe('steps.1.depends_on.0');
    const foreign = await post({
      name: 'foreign',
      steps: [
        { name: 'a', job: quick('true') },
        {
          name: 'b',
          job: quick('true', { depends_on: [{ job: theirs.body.id, on: 'succeeded' }] }),
        },
      ],
    });
    expect(foreign.status).toBe(404);
    const malformed = await post({ name: 'x', steps: [] });
    expect(malformed.status).toBe(400);
    expect((await get('01900000-0000-7000-8000-0000000000ff')).status).toBe(404);
    expect(await h.prisma.job.count({ where: { tenantId: 'pipe-a' } })).toBe(before);
    expect(
      await h.prisma.pipeline.count({
        where: { tenantId: 'pipe-a', name: { in: ['cycle', 'unknown', 'wrong', 'foreign'] } },
      }),
    ).toBe(0);
  });
});
