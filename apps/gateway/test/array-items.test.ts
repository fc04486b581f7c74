import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import {
  call,
  type Call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

describe('job arrays: items from an uploaded file', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('array_items', { ARRAY_MAX_SIZE: '20' });
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
      [{}, { text: 'x\n'.repeat(21), name: 'x.txt' }, 422, /more than 20 items/],
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
    // An items file without `array`.
    const single = await upload('/api/v1/jobs', sleeper(), { text: 'a\n', name: 'x.txt' });
    expect(single.status).toBe(400);
    expect(single.body.detail).toMatch(/needs `array`/);
    expect(await h.prisma.job.count()).toBe(before);
  });
});
