import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, submitJob } from '../../../test/support/jobs-api.js';
import {
  IN_FLIGHT_STALE_SECONDS,
  IdempotencyService,
} from '../src/idempotency/idempotency.service.js';

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

  // What a gateway killed mid-request leaves: the row claimed, no response, the lease aging.
  const leaveInFlight = (tenant: string, key: string, agoSeconds: number) =>
    h.prisma.$executeRaw`
      UPDATE idempotency_keys
      SET response_status = NULL, response_body = NULL,
          created_at = now() - make_interval(secs => ${agoSeconds})
      WHERE principal = ${`tenant:${tenant}`} AND key = ${key}`;

  it('lets a retry take over a key whose gateway died once its lease lapses, not before', async () => {
    const body = sleeper({ name: 'orphan' });
    expect((await submitJob(h.url, key, body, { 'idempotency-key': 'k-dead' })).status).toBe(201);

    await leaveInFlight('idem', 'k-dead', IN_FLIGHT_STALE_SECONDS - 10);
    const early = await submitJob(h.url, key, body, { 'idempotency-key': 'k-dead' });
    expect(early.status).toBe(409);
    expect(early.headers.get('retry-after')).toBe('1');

    await leaveInFlight('idem', 'k-dead', IN_FLIGHT_STALE_SECONDS + 1);
    const retried = await submitJob(h.url, key, body, { 'idempotency-key': 'k-dead' });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotency-replayed')).toBeNull();
    // The taker's answer is stored and replayed from then on.
    const replayed = await submitJob(h.url, key, body, { 'idempotency-key': 'k-dead' });
    expect(replayed.headers.get('idempotency-replayed')).toBe('true');
    expect(await replayed.json()).toEqual(await retried.json());
  });

  it('renews the lease of a request still running, so a slow request keeps its key', async () => {
    const gateway = await h.gateway({});
    try {
      const service = gateway.app.get(IdempotencyService);
      const scope = service.scopeOf(
        { kind: 'tenant', tenantId: 'idem' } as never,
        'k-slow',
        'POST',
        '/api/v1/jobs',
        sleeper({ name: 'slow' }),
      )!;
      expect(await service.begin(scope)).toEqual({ kind: 'proceed' });
      // Long after the stale bound, the running request still renews its row…
      await leaveInFlight('idem', 'k-slow', IN_FLIGHT_STALE_SECONDS * 4);
      expect(await service.renewHeld()).toBe(1);
      const retry = await submitJob(h.url, key, sleeper({ name: 'slow' }), {
        'idempotency-key': 'k-slow',
      });
      expect(retry.status).toBe(409);
      // …and once it has finished, nothing is renewed any more.
      await service.finish(scope, 201, { id: 'x' });
      expect(await service.renewHeld()).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  it('rejects a malformed key', async () => {
    const response = await submitJob(h.url, key, sleeper(), { 'idempotency-key': 'has space' });
    expect(response.status).toBe(400);
  });
});
