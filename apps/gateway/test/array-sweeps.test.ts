import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import {
  call,
  type Call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

describe('job arrays: items from a file, retry of failed elements', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('array_sweeps', { ARRAY_MAX_SIZE: '2500' });
    key = await register(h.url, 'items-a', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_concurrent_jobs: 50,
    });
    await tenantReady(h.prisma, 'items-a');
  });

  afterAll(async () => {
    await h?.close();
  });

  const upload = (
    path: string,
    spec: unknown,
    file: { text: string; name: string; type?: string },
  ) => {
    const form = new FormData();
    form.set('spec', JSON.stringify(spec));
    form.set('items', new Blob([file.text], { type: file.type ?? '' }), file.name);
    return fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    }).then(async (response): Promise<Omit<Call, 'headers'>> => ({
      status: response.status,
      body: await response.json(),
    }));
  };

  const envOf = async (id: string, index: number) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/${index}`, undefined, key)).body.spec
      .env as Record<string, string>;

  it('takes one item per line; the file defines the size', async () => {
    const submitted = await upload(
      '/api/v1/arrays',
      { ...sleeper({ name: 'lines' }), array: { parallelism: 1 } },
      { text: 'routes/0.rou.xml\r\nroutes/1.rou.xml\nroutes/2.rou.xml', name: 'routes.txt' },
    );
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ size: 3, parallelism: 1 });
    const id = submitted.body.id as string;
    for (const index of [0, 1, 2])
      expect(await envOf(id, index)).toEqual({
        ROAM_ARRAY_INDEX: String(index),
        ROAM_ARRAY_SIZE: '3',
        ROAM_ARRAY_ITEM: `routes/${index}.rou.xml`,
      });
    await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
  });

  it('takes CSV rows (header as ROAM_ARRAY_COLUMNS) and JSON lines, through /api/v1/jobs too', async () => {
    const csv = await upload(
      '/api/v1/jobs',
      { ...sleeper({ name: 'csv' }), array: { size: 2 } },
      { text: 'speed,route\n13.9,"a,b"\n27.8,"say ""hi"""\n', name: 'params.csv' },
    );
    expect(csv.status).toBe(201);
    expect(await envOf(csv.body.id, 1)).toEqual({
      ROAM_ARRAY_INDEX: '1',
      ROAM_ARRAY_SIZE: '2',
      ROAM_ARRAY_COLUMNS: 'speed,route',
      ROAM_ARRAY_ITEM: '27.8,"say ""hi"""',
    });
    const jsonl = await upload('/api/v1/arrays', sleeper({ name: 'jsonl' }), {
      text: '{"seed": 1}\n{"seed": 2}\n',
      name: 'params',
      type: 'application/x-ndjson',
    });
    expect(jsonl.status).toBe(201);
    expect((await envOf(jsonl.body.id, 0)).ROAM_ARRAY_ITEM).toBe('{"seed": 1}');
    for (const id of [csv.body.id, jsonl.body.id])
      await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
  });

  it('refuses a bad file naming the line, writing nothing', async () => {
    const before = await h.prisma.job.count();
    const bad: [unknown, { text: string; name: string }, number, RegExp][] = [
      [{ size: 3 }, { text: 'a\nb\n', name: 'x.txt' }, 422, /size is 3 but the items file has 2/],
      [{}, { text: '', name: 'x.txt' }, 422, /no items/],
      [{}, { text: 'a\n\nb\n', name: 'x.txt' }, 422, /line 2: empty row/],
      [{}, { text: `a\n${'x'.repeat(4097)}\n`, name: 'x.txt' }, 422, /line 2: longer than 4096/],
      [{}, { text: 'x'.repeat(100_000), name: 'x.txt' }, 422, /line 1: longer than 4096/],
      [{}, { text: 'a,b\n1,2\n3\n', name: 'x.csv' }, 422, /line 3: 1 fields, the header has 2/],
      [{}, { text: 'a\n"open\n', name: 'x.csv' }, 422, /line 2: a quoted field is not closed/],
      [{}, { text: '{"a":1}\n{nope\n', name: 'x.jsonl' }, 422, /line 2: not JSON/],
      [{}, { text: 'x\n'.repeat(2501), name: 'x.txt' }, 422, /more than 2500 items/],
      [{}, { text: 'a\nb\u0000c\n', name: 'x.txt' }, 422, /line 2: holds a NUL character/],
      [{}, { text: 'a\n"b\u0000"\n', name: 'x.csv' }, 422, /line 2: holds a NUL character/],
      [{ items: ['a'] }, { text: 'a\n', name: 'x.txt' }, 400, /array/],
      [{ parallelism: 0 }, { text: 'a\n', name: 'x.txt' }, 400, /array\.parallelism/],
    ];
    for (const [array, file, status, message] of bad) {
      const response = await upload('/api/v1/arrays', { ...sleeper(), array }, file);
      expect([response.status, JSON.stringify(response.body)]).toEqual([
        status,
        expect.stringMatching(message),
      ]);
    }
    // A NUL character in the spec itself.
    const nul = await upload(
      '/api/v1/arrays',
      { ...sleeper(), command: ['echo', 'a\u0000b'], array: {} },
      { text: 'a\n', name: 'x.txt' },
    );
    expect([nul.status, nul.body.detail]).toEqual([400, expect.stringMatching(/NUL character/)]);
    // An items file without `array`.
    const single = await upload('/api/v1/jobs', sleeper(), { text: 'a\n', name: 'x.txt' });
    expect(single.status).toBe(400);
    expect(single.body.detail).toMatch(/needs `array`/);
    expect(await h.prisma.job.count()).toBe(before);
  });

  it('retries only the failed elements, once the array has finished', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      {
        name: 'flaky',
        image: 'busybox',
        command: ['sh', '-c', 'exit $ROAM_ARRAY_ITEM'],
        resources: { cpu: '100m', memory: '64Mi' },
        group: 'flaky-group',
        array: { size: 4, items: ['0', '3', '0', '5'] },
      },
      key,
    );
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const summary = async () =>
      (await call(h.url, 'GET', `/api/v1/arrays/${id}`, undefined, key)).body;
    const retry = () => call(h.url, 'POST', `/api/v1/arrays/${id}/retry`, undefined, key);

    // Still running: a conflict, nothing changed.
    const early = await retry();
    if (early.status === 409) expect(early.body.detail).toMatch(/unfinished elements/);
    await eventually('the array finished', async () => (await summary()).done === true);
    expect(await summary()).toMatchObject({ counts: { succeeded: 2, failed: 2 } });
    const finishedAt = (await summary()).finished_at;
    expect(finishedAt).not.toBeNull();

    const retried = await retry();
    expect(retried.status).toBe(200);
    expect(retried.body.retried).toBe(2);
    expect(retried.body.array).toMatchObject({
      done: false,
      finished_at: null,
      pending: 2,
      counts: { succeeded: 2, failed: 0 },
    });
    const again = await retry();
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/unfinished elements/);

    // The element is the same job, on its second attempt, its history showing the rerun.
    const element = await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/1`, undefined, key);
    expect(element.body.attempt).toBe(2);
    const history = await h.prisma.jobHistory.findMany({
      where: { jobId: element.body.id },
      orderBy: { seq: 'asc' },
      select: { phase: true },
    });
    expect(history.map((row) => row.phase)).toContain('Failed');
    const untouched = await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/0`, undefined, key);
    expect(untouched.body).toMatchObject({ status: 'succeeded', attempt: 1 });

    // They fail again (same exit codes): the counters and array.finished follow.
    await eventually('the retried elements failed again', async () => {
      const now = await summary();
      return now.done === true ? now : undefined;
    });
    expect(await summary()).toMatchObject({ counts: { succeeded: 2, failed: 2 } });
    expect((await summary()).finished_at).not.toBeNull();
    expect(
      (await call(h.url, 'GET', '/api/v1/groups/flaky-group', undefined, key)).body,
    ).toMatchObject({ total: 4, done: true, counts: { failed: 2 } });
    await eventually('array.finished twice in the event log', async () => {
      const page = await call(h.url, 'GET', '/api/v1/events?type=array.finished', undefined, key);
      return (
        page.body.items.filter(
          (e: { event: { subject: string } }) => e.event.subject === `arrays/${id}`,
        ).length === 2
      );
    });

    // Nothing failed: a conflict. Another tenant's or an unknown array: 404.
    const clean = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { name: 'clean', image: 'busybox', command: ['true'], array: { size: 2 } },
      key,
    );
    await eventually(
      'the clean array finished',
      async () =>
        (await call(h.url, 'GET', `/api/v1/arrays/${clean.body.id}`, undefined, key)).body.done,
    );
    const none = await call(h.url, 'POST', `/api/v1/arrays/${clean.body.id}/retry`, undefined, key);
    expect(none.status).toBe(409);
    expect(none.body.detail).toMatch(/no failed element/);
    const other = await register(h.url, 'items-b', {
      max_cpu: 1,
      max_memory_gi: 1,
      max_concurrent_jobs: 1,
    });
    expect((await call(h.url, 'POST', `/api/v1/arrays/${id}/retry`, undefined, other)).status).toBe(
      404,
    );
    expect((await call(h.url, 'POST', '/api/v1/arrays/nope/retry', undefined, key)).status).toBe(
      400,
    );
  });

  it('cancels a large array in the background: 202 at once, the counts advancing to done', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper({ name: 'big' }), array: { size: 2100, parallelism: 1 } },
      key,
    );
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const cancel = await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
    expect(cancel.status).toBe(202);
    expect(cancel.body.cancelled).toBe(0);
    expect(cancel.body.array).toMatchObject({ cancelling: true, done: false });
    const done = await eventually('the reconciler cancelled the rest', async () => {
      const now = (await call(h.url, 'GET', `/api/v1/arrays/${id}`, undefined, key)).body;
      return now.done === true ? now : undefined;
    });
    expect(done).toMatchObject({ cancelling: false, counts: { cancelled: 2100 } });
    // Every element went through the ledger: a history step each.
    expect(
      await h.prisma.jobHistory.count({ where: { job: { arrayId: id }, phase: 'Cancelled' } }),
    ).toBe(2100);
    const again = await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
    expect([again.status, again.body.cancelled]).toEqual([200, 0]);
  });

  it('lists the elements as a CSV index, streamed; no archive without object storage', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      {
        name: 'indexed',
        image: 'busybox',
        command: ['sh', '-c', 'exit $ROAM_ARRAY_ITEM'],
        resources: { cpu: '100m', memory: '64Mi' },
        array: { size: 3, items: ['0', '2', '0'] },
      },
      key,
    );
    const id = submitted.body.id as string;
    await eventually(
      'the array finished',
      async () => (await call(h.url, 'GET', `/api/v1/arrays/${id}`, undefined, key)).body.done,
    );
    const response = await fetch(`${h.url}/api/v1/arrays/${id}/index.csv`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await response.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('index,job_id,status,exit_code,duration_seconds,result_files');
    expect(lines).toHaveLength(4);
    const element = await call(h.url, 'GET', `/api/v1/jobs/${id}/elements/1`, undefined, key);
    expect(lines[2]).toMatch(new RegExp(`^1,${element.body.id},failed,2,[0-9.]*,$`));
    expect(lines[1]).toMatch(/^0,[0-9a-f-]{36},succeeded,0,/);

    const other = await register(h.url, 'items-c', {
      max_cpu: 1,
      max_memory_gi: 1,
      max_concurrent_jobs: 1,
    });
    for (const path of ['index.csv', 'results.zip']) {
      const foreign = await call(h.url, 'GET', `/api/v1/arrays/${id}/${path}`, undefined, other);
      expect(foreign.status).toBe(404);
    }
    expect((await call(h.url, 'GET', '/api/v1/arrays/nope/index.csv', undefined, key)).status).toBe(
      400,
    );
    const zip = await call(h.url, 'GET', `/api/v1/arrays/${id}/results.zip`, undefined, key);
    expect(zip.status).toBe(503);
  });
});
