import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper } from '../../../test/support/jobs-api.js';

describe('GET /api/v1/jobs filters and pages', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_list');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    key = await register(h.url, 'filters');
    const specs = {
      web: sleeper({ name: 'web', labels: { app: 'web', tier: 'front' } }),
      api: sleeper({ name: 'api', labels: { app: 'api', tier: 'back' } }),
      plain: sleeper({ name: 'plain' }),
      batch: sleeper({ name: 'batch', labels: { tier: 'batch' }, queue: 'q2' }),
      webcanary: sleeper({ name: 'webcanary', labels: { app: 'web', canary: 'true' } }),
    };
    const first = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: Object.values(specs) },
      key,
    );
    expect(first.status).toBe(201);
    Object.keys(specs).forEach((name, i) => {
      ids[name] = first.body.items[i].id as string;
    });
    const late = await call(h.url, 'POST', '/api/v1/jobs', sleeper({ name: 'late' }), key);
    expect(late.status).toBe(201);
    ids.late = late.body.id as string;
    expect((await call(h.url, 'DELETE', `/api/v1/jobs/${ids.plain}`, undefined, key)).status).toBe(
      200,
    );
  });

  const names = async (query: string): Promise<string[]> => {
    const response = await call(h.url, 'GET', `/api/v1/jobs?${query}`, undefined, key);
    expect(response.status).toBe(200);
    return (response.body.items as { name: string }[]).map((job) => job.name).sort();
  };

  it.each([
    ['app=web', ['web', 'webcanary']],
    ['app==api', ['api']],
    // != and notin also select jobs without the label, as in Kubernetes.
    ['app!=web', ['api', 'batch', 'late', 'plain']],
    ['tier in (front,back)', ['api', 'web']],
    ['tier notin (front)', ['api', 'batch', 'late', 'plain', 'webcanary']],
    ['tier', ['api', 'batch', 'web']],
    ['!tier', ['late', 'plain', 'webcanary']],
    ['app=web,!canary', ['web']],
    ['app=web, canary=true', ['webcanary']],
  ])('labelSelector %s', async (selector, expected) => {
    expect(await names(`labelSelector=${encodeURIComponent(selector)}`)).toEqual(expected);
  });

  it('filters by status and queue, and combines filters', async () => {
    expect(await names('status=cancelled')).toEqual(['plain']);
    expect(await names('status=CANCELLED,succeeded')).toEqual(['plain']);
    expect(await names('queue=q2')).toEqual(['batch']);
    expect(await names(`queue=user-queue&labelSelector=${encodeURIComponent('app')}`)).toEqual([
      'api',
      'web',
      'webcanary',
    ]);
  });

  it('filters by creation time', async () => {
    const late = await h.prisma.job.findUniqueOrThrow({ where: { id: ids.late } });
    const since = encodeURIComponent(late.createdAt.toISOString());
    expect(await names(`created_since=${since}`)).toEqual(['late']);
    expect(await names(`created_until=${since}`)).toEqual([
      'api',
      'batch',
      'plain',
      'web',
      'webcanary',
    ]);
  });

  it('pages newest first with a keyset cursor, without gaps or repeats', async () => {
    const all = await call(h.url, 'GET', '/api/v1/jobs?limit=100', undefined, key);
    const expected = (all.body.items as { id: string }[]).map((job) => job.id);
    expect(expected).toHaveLength(6);
    expect([...expected].sort().reverse()).toEqual(expected);
    expect(expected[0]).toBe(ids.late);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `limit=4&cursor=${cursor}` : 'limit=4';
      const page = await call(h.url, 'GET', `/api/v1/jobs?${query}`, undefined, key);
      expect(page.status).toBe(200);
      seen.push(...(page.body.items as { id: string }[]).map((job) => job.id));
      cursor = page.body.next_cursor as string | null;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(expected);
  });

  it.each([
    ['labelSelector=app%20in%20web', /labelSelector: invalid label selector: expected "\("/],
    ['labelSelector=-x', /labelSelector: invalid label selector: "-x" is not a valid label key/],
    ['status=sleeping', /status: "sleeping" is not a job status/],
    ['created_since=yesterday', /created_since: must be an ISO 8601/],
    ['cursor=abc', /cursor/],
  ])('answers %s with a 400 naming the parameter', async (query, detail) => {
    const response = await call(h.url, 'GET', `/api/v1/jobs?${query}`, undefined, key);
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(detail);
  });
});
