import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, submitJob } from '../../../test/support/jobs-api.js';

describe('POST /api/v1/jobs with an Idempotency-Key', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_idem');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;

  beforeAll(async () => {
    key = await register(h.url, 'idem');
  });

  const jobsNamed = (name: string) => h.prisma.job.count({ where: { tenantId: 'idem', name } });

  it('replays the first response for the same key and body', async () => {
    const body = sleeper({ name: 'once' });
    const first = await submitJob(h.url, key, body, { 'idempotency-key': 'k-once' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    const created = await first.json();
    // Same body with its keys in another order is the same request.
    const again = await submitJob(h.url, key, Object.fromEntries(Object.entries(body).reverse()), {
      'idempotency-key': 'k-once',
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(await again.json()).toEqual(created);
    expect(await jobsNamed('once')).toBe(1);
  });

  it('answers the same key with another body with 422 and creates nothing', async () => {
    expect(
      (await submitJob(h.url, key, sleeper({ name: 'k2-a' }), { 'idempotency-key': 'k2' })).status,
    ).toBe(201);
    const other = await submitJob(h.url, key, sleeper({ name: 'k2-b' }), {
      'idempotency-key': 'k2',
    });
    expect(other.status).toBe(422);
    expect(((await other.json()) as { type: string }).type).toBe(
      'https://roam.dev/problems/idempotency-key-reused',
    );
    expect(await jobsNamed('k2-b')).toBe(0);
  });

  it('runs concurrent requests with one key once: the others replay or get 409', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        submitJob(h.url, key, sleeper({ name: 'racer' }), { 'idempotency-key': 'k-race' }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
      id?: string;
      type?: string;
    }[];
    const ids = new Set(bodies.filter((b) => b.id).map((b) => b.id));
    expect(ids.size).toBe(1);
    for (const body of bodies.filter((b) => !b.id)) {
      expect(body.type).toBe('https://roam.dev/problems/idempotency-key-in-flight');
    }
    expect(await jobsNamed('racer')).toBe(1);
  });

  it('replays a client error too, and keeps keys apart per tenant', async () => {
    const bad = { image: '', command: ['x'] };
    const first = await submitJob(h.url, key, bad, { 'idempotency-key': 'k-bad' });
    expect(first.status).toBe(400);
    const again = await submitJob(h.url, key, bad, { 'idempotency-key': 'k-bad' });
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toContain('application/problem+json');

    const otherKey = await register(h.url, 'idem-other');
    const mine = await submitJob(h.url, otherKey, sleeper({ name: 'once' }), {
      'idempotency-key': 'k-once',
    });
    expect(mine.status).toBe(201);
    expect(mine.headers.get('idempotency-replayed')).toBeNull();
  });

  it('rejects a malformed key', async () => {
    const response = await submitJob(h.url, key, sleeper(), { 'idempotency-key': 'has space' });
    expect(response.status).toBe(400);
  });
});
