import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { ArrayCancelLoop } from '../../reconciler/src/array-cancel.loop.js';
import { AdmissionLoop } from '../../scheduler/src/admission/admission.loop.js';
import { AdmissionService } from '../../scheduler/src/admission/admission.service.js';
import { ArrayElementsLoop } from '../../scheduler/src/arrays/array-elements.loop.js';
import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

/**
 * The cancel of an array whose element rows are not all written yet. The loops that write the
 * rows, admit and walk the cancel are stopped, and the test runs each pass itself, in the order
 * that exposes a gap: admit, cancel, walk, write the missing rows, admit again, walk again.
 */
describe('job arrays: cancel while element rows are still being written', () => {
  const SIZE = 2500;
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('array_cancel', {
      ARRAY_MAX_SIZE: String(SIZE),
      MAX_PENDING_JOBS_PER_TENANT: String(SIZE),
    });
    key = await register(h.url, 'cancel-a', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_concurrent_jobs: 50,
    });
    await tenantReady(h.prisma, 'cancel-a');
  });

  afterAll(async () => {
    await h?.close();
  });

  const summary = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/arrays/${id}`, undefined, key)).body;
  const admittedIndexes = async (id: string) =>
    (
      await h.prisma.job.findMany({
        where: { arrayId: id, admittedAt: { not: null } },
        select: { arrayIndex: true },
        orderBy: { arrayIndex: 'asc' },
      })
    ).map((row) => row.arrayIndex);

  it('cancels every element, rows written after the request included; admits none after it', async () => {
    const elements = h.scheduler.app.get(ArrayElementsLoop);
    const admission = h.scheduler.app.get(AdmissionService);
    const walk = h.reconciler.app.get(ArrayCancelLoop);
    // From here on, rows are written, admission runs and the cancel is walked only when asked.
    await elements.onModuleDestroy();
    await h.scheduler.app.get(AdmissionLoop).onModuleDestroy();
    await walk.onModuleDestroy();

    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper({ name: 'partial' }), array: { size: SIZE, parallelism: 5 } },
      key,
    );
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const row = () => h.prisma.jobArray.findUniqueOrThrow({ where: { id } });
    expect((await row()).materialized).toBe(1000);

    // Five elements are admitted (parallelism 5) before the cancel: each gets a Kubernetes Job.
    await admission.cycle();
    expect(await admittedIndexes(id)).toEqual([0, 1, 2, 3, 4]);
    const kubeJobOf = async (index: number) => {
      const element = await call(
        h.url,
        'GET',
        `/api/v1/jobs/${id}/elements/${index}`,
        undefined,
        key,
      );
      return h.kube.get({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: `roam-${element.body.id}-1`,
        namespace: 'roam-cancel-a',
      });
    };
    for (const index of [0, 1, 2, 3, 4])
      await eventually(
        `element ${index}'s Job created`,
        async () => (await kubeJobOf(index)) !== undefined,
      );

    const cancel = await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
    expect(cancel.status).toBe(202);
    expect(cancel.body.array).toMatchObject({ cancelling: true, done: false });
    const cancelledAt = (await row()).cancelRequestedAt!;

    // The walk cancels the 1,000 rows that exist; the other 1,500 are still counted unfinished.
    expect(await walk.pass()).toBe(1000);
    expect(await summary(id)).toMatchObject({
      cancelling: true,
      done: false,
      counts: { cancelled: 1000, submitted: SIZE - 1000 },
    });
    // 1,000 finished elements would let parallelism offer indexes up to 1,004: none is offered.
    await admission.cycle();
    expect(await admittedIndexes(id)).toEqual([0, 1, 2, 3, 4]);

    // The missing rows are written after the cancel, as `Submitted`; admission still offers none.
    expect(await elements.sweep()).toBe(SIZE - 1000);
    expect((await row()).materialized).toBe(SIZE);
    await admission.cycle();
    expect(await admittedIndexes(id)).toEqual([0, 1, 2, 3, 4]);
    expect(
      await h.prisma.jobHistory.count({
        where: { job: { arrayId: id }, phase: 'Admitted', at: { gte: cancelledAt } },
      }),
    ).toBe(0);

    // The next walk cancels them; a walk after that finds nothing.
    expect(await walk.pass()).toBe(SIZE - 1000);
    expect(await walk.pass()).toBe(0);
    const done = await summary(id);
    expect(done).toMatchObject({ cancelling: false, done: true, counts: { cancelled: SIZE } });
    const counts = done.counts as Record<string, number>;
    expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(SIZE);
    expect(await h.prisma.job.count({ where: { arrayId: id, status: 'cancelled' } })).toBe(SIZE);
    expect(await h.prisma.job.count({ where: { arrayId: id } })).toBe(SIZE);

    // Each element through the ledger: a Cancelled history step and a job.cancelled event each;
    // a job.cancel command only for the five that had something to stop.
    expect(
      await h.prisma.jobHistory.count({ where: { job: { arrayId: id }, phase: 'Cancelled' } }),
    ).toBe(SIZE);
    const [messages] = await h.prisma.$queryRaw<{ events: bigint; commands: bigint }[]>`
      SELECT count(*) FILTER (WHERE o.envelope ->> 'type' = ${subjects.job.cancelled}) AS events,
             count(*) FILTER (WHERE o.envelope ->> 'type' = ${subjects.job.cancel}) AS commands
      FROM outbox_messages o JOIN jobs j ON o.envelope ->> 'subject' = 'jobs/' || j.id::text
      WHERE j.array_id = ${id}::uuid`;
    expect(messages).toEqual({ events: BigInt(SIZE), commands: 5n });

    // The admitted elements' Kubernetes Jobs are stopped.
    for (const index of [0, 1, 2, 3, 4])
      await eventually(
        `element ${index}'s Job deleted`,
        async () => (await kubeJobOf(index)) === undefined,
      );

    // array.finished once, counting every element cancelled.
    const finished = await eventually('array.finished in the event log', async () => {
      const page = await call(h.url, 'GET', '/api/v1/events?type=array.finished', undefined, key);
      return page.body.items.length > 0 ? page : undefined;
    });
    expect(finished.body.items).toHaveLength(1);
    expect(finished.body.items[0].event).toMatchObject({
      subject: `arrays/${id}`,
      data: { arrayId: id, size: SIZE, counts: { cancelled: SIZE } },
    });
    expect(
      await h.prisma.event.count({
        where: { type: subjects.array.finished, subject: `arrays/${id}` },
      }),
    ).toBe(1);
  });

  it('runs the failed elements again when they are retried after a cancel', async () => {
    const elements = h.scheduler.app.get(ArrayElementsLoop);
    const admission = h.scheduler.app.get(AdmissionService);
    const walk = h.reconciler.app.get(ArrayCancelLoop);
    // Stopped by the test above already (stopping is idempotent): every pass is this test's.
    await elements.onModuleDestroy();
    await h.scheduler.app.get(AdmissionLoop).onModuleDestroy();
    await walk.onModuleDestroy();

    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      {
        ...sleeper({ name: 'some-fail' }),
        command: ['sh', '-c', 'exit $ROAM_ARRAY_ITEM'],
        // Elements 0–2 fail (exit 3); the others would succeed but never get to run.
        array: {
          size: 1500,
          items: [...Array(1500).keys()].map((i) => (i < 3 ? '3' : '0')),
          parallelism: 3,
        },
      },
      key,
    );
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    await admission.cycle();
    expect(await admittedIndexes(id)).toEqual([0, 1, 2]);
    await eventually('elements 0–2 failed', async () => (await summary(id)).counts.failed === 3);

    // 1,497 unfinished: more than one request's batch, so the cancel is walked in the background.
    expect((await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key)).status).toBe(202);
    expect(await walk.pass()).toBe(1497);
    expect(await summary(id)).toMatchObject({
      done: true,
      cancelling: false,
      counts: { failed: 3, cancelled: 1497 },
    });

    const retried = await call(h.url, 'POST', `/api/v1/arrays/${id}/retry`, undefined, key);
    expect([retried.status, retried.body.retried]).toEqual([200, 3]);
    // The cancel is over: the walk leaves the rerun elements alone, and admission takes them.
    expect(await walk.pass()).toBe(0);
    await admission.cycle();
    const rerun = await h.prisma.job.findMany({
      where: { arrayId: id, arrayIndex: { lt: 3 } },
      select: { attempt: true, admittedAt: true },
    });
    expect(rerun.map((job) => [job.attempt, job.admittedAt !== null])).toEqual([
      [2, true],
      [2, true],
      [2, true],
    ]);
    await eventually('the rerun elements failed again', async () => {
      const now = await summary(id);
      return now.done === true && now.counts.failed === 3 ? now : undefined;
    });
  });
});
