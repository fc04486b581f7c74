import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

describe('job dependencies', () => {
  let h: Harness;
  let key: string;
  let other: string;
  const limits = { max_cpu: 100, max_memory_gi: 100, max_concurrent_jobs: 50 };

  beforeAll(async () => {
    h = await startHarness('dependencies', { ARRAY_MAX_SIZE: '20' });
    key = await register(h.url, 'deps-a', limits);
    other = await register(h.url, 'deps-b', limits);
    await tenantReady(h.prisma, 'deps-a');
    await tenantReady(h.prisma, 'deps-b');
  });

  afterAll(async () => {
    await h?.close();
  });

  const submit = (body: unknown, as = key) => call(h.url, 'POST', '/api/v1/jobs', body, as);
  const job = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body;
  const explain = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}/explain`, undefined, key)).body;
  const finished = (id: string, status: string) =>
    eventually(`job ${id} to be ${status}`, async () => (await job(id)).status === status);

  it('holds a job until its dependency succeeds, and explains what it waits for', async () => {
    const first = await submit(sleeper({ name: 'first' }));
    expect(first.status).toBe(201);
    const firstId = first.body.id as string;
    const then = await submit(
      quick('echo then', { depends_on: [{ job: firstId, on: 'succeeded' }] }),
    );
    expect(then.status).toBe(201);
    expect(then.body).toMatchObject({
      status: 'pending',
      phase: 'Queued',
      reason: 'WaitingForDependency',
    });
    const thenId = then.body.id as string;
    const why = await explain(thenId);
    expect(why.summary).toContain(`job ${firstId} (on: succeeded; it is`);

    // The dependency never finishes on its own: nothing admits the dependent meanwhile.
    await eventually(
      'the dependency running',
      async () => (await job(firstId)).status === 'running',
    );
    expect(await job(thenId)).toMatchObject({ phase: 'Queued', reason: 'WaitingForDependency' });
    const cancel = await call(h.url, 'DELETE', `/api/v1/jobs/${firstId}`, undefined, key);
    expect(cancel.status).toBe(200);
    // Cancelled is not succeeded: the dependent is cancelled, with the reason and an event.
    await finished(thenId, 'cancelled');
    expect(await job(thenId)).toMatchObject({ phase: 'Cancelled', reason: 'DependencyFailed' });
    const events = await call(h.url, 'GET', `/api/v1/jobs/${thenId}/events`, undefined, key);
    expect(JSON.stringify(events.body)).toContain('DependencyFailed');
  });

  it('runs a job after its dependency succeeded, and one after any end', async () => {
    const a = await submit(quick('echo a'));
    const b = await submit(quick('echo b', { depends_on: [{ job: a.body.id, on: 'succeeded' }] }));
    const c = await submit(quick('exit 3', { depends_on: [{ job: b.body.id, on: 'succeeded' }] }));
    const d = await submit(quick('echo d', { depends_on: [{ job: c.body.id, on: 'finished' }] }));
    const e = await submit(quick('echo e', { depends_on: [{ job: c.body.id, on: 'failed' }] }));
    await finished(d.body.id, 'succeeded');
    await finished(e.body.id, 'succeeded');
    expect(await job(c.body.id)).toMatchObject({ status: 'failed' });
    const order = await Promise.all(
      [a, b, c].map(async (r) => (await job(r.body.id)).completed_at),
    );
    const [bJob, cJob] = await Promise.all([job(b.body.id), job(c.body.id)]);
    expect(new Date(bJob.started_at).getTime()).toBeGreaterThanOrEqual(
      new Date(order[0]).getTime(),
    );
    expect(new Date(cJob.started_at).getTime()).toBeGreaterThanOrEqual(
      new Date(order[1]).getTime(),
    );
  });

  it('keeps a dependent when asked, queued as never satisfied', async () => {
    const a = await submit(quick('exit 1'));
    const kept = await submit(
      quick('echo kept', {
        depends_on: [{ job: a.body.id, on: 'succeeded' }],
        on_dependency_failure: 'keep',
      }),
    );
    await eventually(
      'the kept job marked',
      async () => (await job(kept.body.id)).reason === 'DependencyNeverSatisfied',
    );
    expect(await job(kept.body.id)).toMatchObject({ status: 'pending', phase: 'Queued' });
    expect((await explain(kept.body.id)).summary).toContain('can no longer be met');
  });

  it('waits for a whole array, and N_TO_N element by element', async () => {
    const sweep = await submit(quick('echo $ROAM_ARRAY_INDEX', { array: { size: 3 } }));
    expect(sweep.status).toBe(201);
    const sweepId = sweep.body.id as string;
    const pairs = await submit(
      quick('echo pair $ROAM_ARRAY_INDEX', {
        array: { size: 3 },
        depends_on: [{ job: sweepId, on: 'succeeded', type: 'N_TO_N' }],
      }),
    );
    expect(pairs.status).toBe(201);
    // Element i of `pairs` waits for element i of `sweep`, and for nothing else.
    const edges = await h.prisma.jobDependency.findMany({
      where: { tenantId: 'deps-a', onJobId: { not: null }, condition: 'succeeded' },
      select: { jobId: true, onJobId: true },
    });
    const elementOf = async (arrayId: string, index: number) =>
      (await call(h.url, 'GET', `/api/v1/arrays/${arrayId}/elements/${index}`, undefined, key)).body
        .id as string;
    for (const index of [0, 1, 2])
      expect(edges).toContainEqual({
        jobId: await elementOf(pairs.body.id, index),
        onJobId: await elementOf(sweepId, index),
      });
    const aggregate = await submit(
      quick('echo aggregate', { depends_on: [{ job: pairs.body.id, on: 'all_succeeded' }] }),
    );
    expect(aggregate.status).toBe(201);
    await finished(aggregate.body.id, 'succeeded');
    const elements = await call(h.url, 'GET', `/api/v1/arrays/${pairs.body.id}`, undefined, key);
    expect(elements.body).toMatchObject({ counts: { succeeded: 3 } });
    const onFailure = await submit(
      quick('echo cleanup', { depends_on: [{ job: pairs.body.id, on: 'any_failed' }] }),
    );
    await finished(onFailure.body.id, 'cancelled');
    expect(await job(onFailure.body.id)).toMatchObject({ reason: 'DependencyFailed' });
  });

  it('cancels every element of a dependent array whose dependency failed', async () => {
    const broken = await submit(quick('exit 2'));
    const sweep = await submit(
      quick('echo never', {
        array: { size: 5 },
        depends_on: [{ job: broken.body.id, on: 'succeeded' }],
      }),
    );
    expect(sweep.status).toBe(201);
    await eventually('every element cancelled', async () => {
      const array = await call(h.url, 'GET', `/api/v1/arrays/${sweep.body.id}`, undefined, key);
      return array.body.counts.cancelled === 5;
    });
    const element = await call(
      h.url,
      'GET',
      `/api/v1/arrays/${sweep.body.id}/elements/0`,
      undefined,
      key,
    );
    expect(element.body).toMatchObject({ status: 'cancelled', reason: 'DependencyFailed' });
  });

  it('refuses unknown and foreign ids alike, bad conditions and too many, writing nothing', async () => {
    const mine = await submit(sleeper());
    const theirs = await submit(sleeper(), other);
    const before = await h.prisma.job.count({ where: { tenantId: 'deps-a' } });
    const unknown = '01900000-0000-7000-8000-0000000000ff';
    const missing = await submit(
      quick('true', { depends_on: [{ job: unknown, on: 'succeeded' }] }),
    );
    const foreign = await submit(
      quick('true', { depends_on: [{ job: theirs.body.id, on: 'succeeded' }] }),
    );
    expect(missing.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(foreign.body.detail).toBe(`job or array ${theirs.body.id} not found`);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');

    const wrong = await submit(
      quick('true', { depends_on: [{ job: mine.body.id, on: 'all_succeeded' }] }),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([
      {
        path: 'depends_on.0',
        message: expect.stringContaining('a job: on must be one of succeeded'),
      },
    ]);
    const nToN = await submit(
      quick('true', { depends_on: [{ job: mine.body.id, on: 'succeeded', type: 'N_TO_N' }] }),
    );
    expect(nToN.status).toBe(400);
    const many = await submit(
      quick('true', {
        depends_on: Array.from({ length: 33 }, () => ({ job: mine.body.id, on: 'succeeded' })),
      }),
    );
    expect(many.status).toBe(400);
    expect(JSON.stringify(many.body.errors)).toContain('at most 32 dependencies');
    const batch = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      {
        jobs: [
          quick('true'),
          quick('true', { depends_on: [{ job: mine.body.id, on: 'any_failed' }] }),
        ],
      },
      key,
    );
    expect(batch.status).toBe(400);
    expect(batch.body.errors[0].path).toBe('jobs.1.depends_on.0');
    expect(await h.prisma.job.count({ where: { tenantId: 'deps-a' } })).toBe(before);
    expect(
      await h.prisma.jobDependency.count({
        where: { tenantId: 'deps-a', jobId: null, arrayId: null },
      }),
    ).toBe(0);
  });

  it('takes dependencies in a batch', async () => {
    const a = await submit(quick('echo a'));
    const batch = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      {
        jobs: [
          quick('echo x', { depends_on: [{ job: a.body.id, on: 'succeeded' }] }),
          quick('echo y'),
        ],
      },
      key,
    );
    expect(batch.status).toBe(201);
    await finished(batch.body.items[0].id, 'succeeded');
  });

  it('refuses inputs_from_dependencies with a 422 where no object storage can give the results, writing nothing', async () => {
    const volumes = await mkdtemp(join(tmpdir(), 'roam-pvc-'));
    // A gateway in PVC mode beside this suite's, which has no results store at all.
    const pvc = await h.gateway({ RESULTS_PVC_ROOT: volumes });
    try {
      const before = await h.prisma.job.count({ where: { tenantId: 'deps-a' } });
      const wanting = quick('ls $ROAM_INPUTS_DIR/deps', { inputs_from_dependencies: true });
      const refusals = [
        { path: '/api/v1/jobs', body: wanting, field: 'inputs_from_dependencies' },
        {
          path: '/api/v1/arrays',
          body: { ...wanting, array: { size: 3 } },
          field: 'inputs_from_dependencies',
        },
        {
          path: '/api/v1/jobs:batch',
          body: { jobs: [quick('true'), wanting] },
          field: 'jobs.1.inputs_from_dependencies',
        },
        {
          path: '/api/v1/pipelines',
          body: {
            name: 'pvc-deps',
            steps: [
              { name: 'make', job: quick('true') },
              {
                name: 'use',
                job: wanting,
                depends_on: [{ step: 'make', on: 'succeeded' }],
              },
            ],
          },
          field: 'steps.1.job.inputs_from_dependencies',
        },
      ];
      for (const { path, body, field } of refusals) {
        const refused = await call(pvc.url, 'POST', path, body, key);
        expect([path, refused.status]).toEqual([path, 422]);
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(refused.body).toMatchObject({
          type: 'https://roam.dev/problems/dependency-inputs-unavailable',
          errors: [{ path: field }],
        });
        expect(refused.body.detail).toMatch(
          /PVC mode, RESULTS_PVC_ROOT.*only be given with object storage \(S3_ENDPOINT\)/,
        );
      }
      const none = await submit(wanting);
      expect(none.status).toBe(422);
      expect(none.body.detail).toMatch(/keeps no results/);
      expect(await h.prisma.job.count({ where: { tenantId: 'deps-a' } })).toBe(before);
      expect(
        await h.prisma.pipeline.count({ where: { tenantId: 'deps-a', name: 'pvc-deps' } }),
      ).toBe(0);
      // Without the flag, the same job is taken in PVC mode.
      expect((await call(pvc.url, 'POST', '/api/v1/jobs', quick('true'), key)).status).toBe(201);
    } finally {
      // The harness closes the extra gateway with the others.
      await rm(volumes, { recursive: true, force: true });
    }
  });
});
