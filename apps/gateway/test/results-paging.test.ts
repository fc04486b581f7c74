import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uuidv7 } from '@roam/domain';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

/** A finished job of `tenant` with `count` recorded result files (`out/f-00000.txt`, …). */
async function jobWithResults(h: Harness, tenant: string, count: number): Promise<string> {
  const id = uuidv7();
  await h.prisma.job.create({
    data: {
      id,
      tenantId: tenant,
      name: `results-${id.slice(-6)}`,
      spec: { image: 'busybox', command: ['true'] },
      cpuMillis: 100,
      memoryBytes: BigInt(64 * 2 ** 20),
      status: 'succeeded',
      phase: 'Succeeded',
      attempt: 1,
    },
  });
  await h.prisma.resultFile.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      jobId: id,
      tenantId: tenant,
      path: `out/f-${String(i).padStart(5, '0')}.txt`,
      size: BigInt(i),
      checksum: '0'.repeat(64),
      contentType: 'text/plain',
      storageKey: `tenants/${tenant}/jobs/${id}/results/out/f-${i}.txt`,
    })),
  });
  return id;
}

describe('result listings are paged', () => {
  let h: Harness;
  let key: string;
  let otherKey: string;
  let id: string;
  const total = 250;

  beforeAll(async () => {
    h = await startHarness('results_paging', { RESULTS_PAGE_SIZE: '100', RESULTS_PAGE_MAX: '120' });
    key = await register(h.url, 'pager');
    otherKey = await register(h.url, 'pager-other');
    id = await jobWithResults(h, 'pager', total);
  });

  afterAll(async () => {
    await h?.close();
  });

  const get = (path: string, as = key) => call(h.url, 'GET', path, undefined, as);

  it('answers RESULTS_PAGE_SIZE files by default, with a cursor and a Link to the next page', async () => {
    const page = await get(`/api/v1/jobs/${id}/results`);
    expect(page.status).toBe(200);
    expect(page.body.files).toHaveLength(100);
    expect(page.body.has_more).toBe(true);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    expect(page.headers.get('link')).toBe(
      `</api/v1/jobs/${id}/results?cursor=${page.body.next_cursor}>; rel="next"`,
    );
  });

  it('the cursor walks every file exactly once, in path order, never over the limit', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=7' : `?limit=7&cursor=${cursor}`;
      const page = await get(`/api/v1/jobs/${id}/results${query}`);
      expect(page.status).toBe(200);
      expect(page.body.files.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.files.map((file: { name: string }) => file.name));
      cursor = page.body.next_cursor;
      expect(page.body.has_more).toBe(cursor !== null);
      expect(page.headers.get('link') !== null).toBe(cursor !== null);
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(Math.ceil(total / 7));
    const expected = Array.from(
      { length: total },
      (_, i) => `out/f-${String(i).padStart(5, '0')}.txt`,
    );
    expect(seen).toEqual(expected);
  });

  it('the compat listing keeps its shape and answers the first page with a marker', async () => {
    const page = await get(`/jobs/${id}/results`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ job_id: id, storage_type: 'pvc', has_more: true });
    expect(page.body.files).toHaveLength(100);
    expect(page.body.files[0]).toMatchObject({
      name: 'out/f-00000.txt',
      url: `/jobs/${id}/results/out/f-00000.txt`,
    });
    const next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '');
    expect(next?.[1]).toBe(`/jobs/${id}/results?cursor=${page.body.next_cursor}`);
    const last = await get(`${next![1]}&limit=120`);
    expect(last.body.files).toHaveLength(120);
    expect(last.body.files[0].name).toBe('out/f-00100.txt');
    const rest = await get(`/jobs/${id}/results?cursor=${last.body.next_cursor}&limit=120`);
    expect(rest.body.files.map((f: { name: string }) => f.name).at(-1)).toBe('out/f-00249.txt');
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(rest.headers.get('link')).toBeNull();
  });

  it('refuses a limit over RESULTS_PAGE_MAX and a malformed cursor with 400', async () => {
    const tooMany = await get(`/api/v1/jobs/${id}/results?limit=121`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.headers.get('content-type')).toContain('application/problem+json');
    expect(tooMany.body.detail).toMatch(/limit: must be at most 120/);
    expect((await get(`/api/v1/jobs/${id}/results?limit=0`)).status).toBe(400);
    expect((await get(`/api/v1/jobs/${id}/results?cursor=not%20a%20cursor`)).status).toBe(400);
    // `AA` decodes to a NUL byte, which no path holds and Postgres text cannot.
    expect((await get(`/api/v1/jobs/${id}/results?cursor=AA`)).status).toBe(400);
  });

  it("another tenant's job is not found, whatever the cursor", async () => {
    const page = await get(`/api/v1/jobs/${id}/results?limit=5`);
    const stranger = await get(
      `/api/v1/jobs/${id}/results?cursor=${page.body.next_cursor}`,
      otherKey,
    );
    expect(stranger.status).toBe(404);
  });
});
