import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { AdmissionService } from '../../scheduler/src/admission/admission.service.js';
import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

describe('job arrays', () => {
  let h: Harness;
  let key: string;
  let other: string;
  const limits = { max_cpu: 100, max_memory_gi: 100, max_concurrent_jobs: 50 };

  beforeAll(async () => {
    h = await startHarness('arrays', { ARRAY_MAX_SIZE: '50', MAX_PENDING_JOBS_PER_TENANT: '60' });
    key = await register(h.url, 'arrays-a', limits);
    other = await register(h.url, 'arrays-b', limits);
    await tenantReady(h.prisma, 'arrays-a');
  });

  afterAll(async () => {
    await h?.close();
  });

  const summary = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/arrays/${id}`, undefined, key)).body;

  it('runs every element with its index, keeps a summary and announces array.finished', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        name: 'sweep',
        image: 'busybox',
        command: ['sh', '-c', 'echo element $ROAM_ARRAY_INDEX of $ROAM_ARRAY_SIZE'],
        resources: { cpu: '100m', memory: '64Mi' },
        group: 'arrays-group',
        array: { size: 4 },
      },
      key,
    );
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({
      name: 'sweep',
      size: 4,
      parallelism: null,
      group: 'arrays-group',
      pending: 4,
      progress: 0,
      done: false,
    });
    const id = submitted.body.id as string;

    await eventually('every element succeeded', async () => (await summary(id)).done === true);
    expect(await summary(id)).toMatchObject({
      finished: 4,
      progress: 1,
      counts: { succeeded: 4 },
    });

    const element = await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/2`, undefined, key);
    expect(element.status).toBe(200);
    expect(element.body).toMatchObject({
      name: 'sweep-2',
      status: 'succeeded',
      group: 'arrays-group',
      array: { id, index: 2 },
    });
    expect(element.body.spec.env).toEqual({ ROAM_ARRAY_INDEX: '2', ROAM_ARRAY_SIZE: '4' });
    // The element is a job: its own routes work with its id.
    const status = await call(
      h.url,
      'GET',
      `/api/v1/jobs/${element.body.id}/status`,
      undefined,
      key,
    );
    expect(status.body.status).toBe('succeeded');

    const page1 = await call(h.url, 'GET', `/api/v1/arrays/${id}/elements?limit=3`, undefined, key);
    expect(page1.body.items.map((e: { array: { index: number } }) => e.array.index)).toEqual([
      0, 1, 2,
    ]);
    const page2 = await call(
      h.url,
      'GET',
      `/api/v1/arrays/${id}/elements?limit=3&cursor=${page1.body.next_cursor}`,
      undefined,
      key,
    );
    expect(page2.body.items.map((e: { array: { index: number } }) => e.array.index)).toEqual([3]);
    expect(page2.body.next_cursor).toBeNull();

    // The jobs list filters on the array; another tenant sees none of its elements.
    const listed = await call(h.url, 'GET', `/api/v1/jobs?array=${id}`, undefined, key);
    expect(listed.body.items.map((job: { name: string }) => job.name).sort()).toEqual([
      'sweep-0',
      'sweep-1',
      'sweep-2',
      'sweep-3',
    ]);
    expect(
      (await call(h.url, 'GET', `/api/v1/jobs?array=${id}`, undefined, other)).body.items,
    ).toEqual([]);
    expect((await call(h.url, 'GET', '/api/v1/jobs?array=nope', undefined, key)).status).toBe(400);

    // The group counts the elements too.
    expect(
      (await call(h.url, 'GET', '/api/v1/groups/arrays-group', undefined, key)).body,
    ).toMatchObject({ total: 4, done: true });

    // The event log shows a commit once no older transaction is still open: wait for it.
    const finished = await eventually('array.finished in the event log', async () => {
      const page = await call(h.url, 'GET', '/api/v1/events?type=array.finished', undefined, key);
      return page.body.items.length > 0 ? page : undefined;
    });
    expect(finished.body.items).toHaveLength(1);
    expect(finished.body.items[0].event).toMatchObject({
      subject: `arrays/${id}`,
      data: { arrayId: id, name: 'sweep', size: 4, counts: { succeeded: 4 } },
    });
  });

  it('gives element i the item i as ROAM_ARRAY_ITEM', async () => {
    const items = ['routes/0000.rou.xml', 'a,b,"c d"', '{"speed": 13.9}'];
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper({ name: 'items' }), array: { size: 3, items } },
      key,
    );
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    for (const [index, item] of items.entries()) {
      const element = await call(
        h.url,
        'GET',
        `/api/v1/jobs/${id}/elements/${index}`,
        undefined,
        key,
      );
      expect(element.body.spec.env).toEqual({
        ROAM_ARRAY_INDEX: String(index),
        ROAM_ARRAY_SIZE: '3',
        ROAM_ARRAY_ITEM: item,
      });
    }
    await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
  });

  it('admits at most `parallelism` elements at once, and cancels the rest', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper({ name: 'slow' }), array: { size: 6, parallelism: 2 } },
      key,
    );
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    await eventually('two elements running', async () => (await summary(id)).running === 2);
    // More cycles, with room for all six: still two.
    const admission = h.scheduler.app.get(AdmissionService);
    for (let i = 0; i < 3; i++) await admission.cycle();
    expect(await summary(id)).toMatchObject({ running: 2, counts: { admitted: 0 }, pending: 4 });
    const admitted = await h.prisma.job.findMany({
      where: { arrayId: id, admittedAt: { not: null } },
      select: { arrayIndex: true },
      orderBy: { arrayIndex: 'asc' },
    });
    expect(admitted.map((row) => row.arrayIndex)).toEqual([0, 1]);
    const fifth = await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/4`, undefined, key);
    const explained = await call(
      h.url,
      'GET',
      `/api/v1/jobs/${fifth.body.id}/explain`,
      undefined,
      key,
    );
    expect(explained.body.summary).toMatch(
      /element 4 of array .* waits for its parallelism: at most 2 .*; 3 more must finish/,
    );

    // One element finishes: the next one may go.
    const first = await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/0`, undefined, key);
    await call(h.url, 'DELETE', `/api/v1/jobs/${first.body.id}`, undefined, key);
    await eventually('the third element admitted', async () => {
      const row = await h.prisma.job.findFirst({ where: { arrayId: id, arrayIndex: 2 } });
      return row?.admittedAt != null;
    });
    for (let i = 0; i < 3; i++) await admission.cycle();
    const now = await summary(id);
    expect(now.running + now.counts.admitted).toBeLessThanOrEqual(2);
    expect(now.counts.cancelled).toBe(1);

    const cancelled = await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toBe(5);
    expect(cancelled.body.array).toMatchObject({ done: true, counts: { cancelled: 6 } });
    expect(
      (await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key)).body.cancelled,
    ).toBe(0);
  });

  it('refuses bad arrays with a 400, too many pending jobs with a 429, writing nothing', async () => {
    const before = await h.prisma.job.count();
    const bad: [unknown, RegExp][] = [
      [{ size: 0 }, /array\.size/],
      [{ size: 51 }, /at most 50 \(ARRAY_MAX_SIZE\)/],
      [{ size: 2.5 }, /array\.size/],
      [{ size: 3, parallelism: 0 }, /array\.parallelism/],
      [{ size: 3, extra: true }, /array/],
      [{ size: 3, items: ['a', 'b'] }, /array\.items: must hold exactly `size` items/],
      [{ size: 1, items: ['x'.repeat(4097)] }, /array\.items\.0/],
      [{ size: 1, items: [7] }, /array\.items\.0/],
      ['many', /array/],
      [null, /array/],
    ];
    for (const [array, message] of bad) {
      for (const path of ['/api/v1/jobs', '/api/v1/arrays']) {
        const response = await call(h.url, 'POST', path, { ...sleeper(), array }, key);
        expect(response.status).toBe(400);
        expect(JSON.stringify(response.body)).toMatch(message);
      }
    }
    const badSpec = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { image: 'busybox', array: { size: 2 } },
      key,
    );
    expect(badSpec.status).toBe(400);
    expect(JSON.stringify(badSpec.body.errors)).toMatch(/command/);
    const noArray = await call(h.url, 'POST', '/api/v1/arrays', sleeper(), key);
    expect(noArray.status).toBe(400);

    // 45 elements on top of what is pending would pass MAX_PENDING_JOBS_PER_TENANT=60… once.
    const first = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper(), array: { size: 45 } },
      other,
    );
    expect(first.status).toBe(201);
    const over = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper(), array: { size: 45 } },
      other,
    );
    expect(over.status).toBe(429);
    expect(await h.prisma.jobArray.count({ where: { tenantId: 'arrays-b' } })).toBe(1);
    expect(await h.prisma.job.count()).toBe(before + 45);
  });

  it('keeps arrays to their tenant', async () => {
    const mine = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper(), array: { size: 2 } },
      key,
    );
    const id = mine.body.id as string;
    // Listed for its tenant, newest first and paged; never for another.
    const listed = await call(h.url, 'GET', '/api/v1/arrays?limit=1', undefined, key);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    expect(listed.body.items[0]).toMatchObject({ size: 2, counts: expect.any(Object) });
    expect(listed.body.next_cursor).toBe(id);
    const older = await call(h.url, 'GET', `/api/v1/arrays?cursor=${id}`, undefined, key);
    expect(older.body.items.map((a: { id: string }) => a.id)).not.toContain(id);
    expect(older.body.items.length).toBeGreaterThan(0);
    const theirs = await call(h.url, 'GET', '/api/v1/arrays', undefined, other);
    expect(theirs.status).toBe(200);
    expect(theirs.body.items.map((a: { id: string }) => a.id)).not.toContain(id);
    for (const query of ['limit=0', 'limit=501', 'cursor=nope', 'sort=size'])
      expect((await call(h.url, 'GET', `/api/v1/arrays?${query}`, undefined, key)).status).toBe(
        400,
      );
    for (const path of [
      `/api/v1/arrays/${id}`,
      `/api/v1/arrays/${id}/elements`,
      `/api/v1/jobs/${id}/elements/0`,
      `/api/v1/arrays/${id}/elements/0`,
    ]) {
      expect((await call(h.url, 'GET', path, undefined, other)).status).toBe(404);
    }
    expect((await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, other)).status).toBe(
      404,
    );
    expect((await summary(id)).counts.cancelled).toBe(0);
    expect((await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/2`, undefined, key)).status).toBe(
      404,
    );
    for (const path of [
      `/api/v1/jobs/${id}/elements/abc`,
      `/api/v1/jobs/${id}/elements/-1`,
      `/api/v1/jobs/nope/elements/0`,
      `/api/v1/arrays/${id}/elements?cursor=x`,
      `/api/v1/arrays/${id}/elements?status=sleeping`,
    ]) {
      expect((await call(h.url, 'GET', path, undefined, key)).status).toBe(400);
    }
    await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
  });
});
