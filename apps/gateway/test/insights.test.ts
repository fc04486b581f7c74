import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import {
  ADMIN_TOKEN,
  call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

type Point = { submitted: number; pending: number; running: number; cpu_millis: number };

describe('usage over time, the queue and offloads', () => {
  let h: Harness;
  let busy: string;
  let quiet: string;

  beforeAll(async () => {
    h = await startHarness('insights');
    // One job at a time: the second and third wait.
    busy = await register(h.url, 'insights-busy', { max_cpu: 4, max_concurrent_jobs: 1 });
    quiet = await register(h.url, 'insights-quiet', { max_cpu: 4, max_concurrent_jobs: 2 });
    await tenantReady(h.prisma, 'insights-busy');
    for (const name of ['first', 'second', 'third'])
      expect((await call(h.url, 'POST', '/api/v1/jobs', sleeper({ name }), busy)).status).toBe(201);
    await eventually('one job admitted', async () =>
      (await h.prisma.job.count({
        where: { tenantId: 'insights-busy', admittedAt: { not: null } },
      })) === 1
        ? true
        : undefined,
    );
  });

  afterAll(async () => {
    await h?.close();
  });

  it('gives a tenant its own quota use over time, its limits and fair-share position', async () => {
    const usage = await call(
      h.url,
      'GET',
      '/api/v1/usage/series?hours=1&buckets=12',
      undefined,
      busy,
    );
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      bucket_seconds: 300,
      limits: { cpu_millis: 4000, concurrent_jobs: 1 },
      fair_share: { position: 1, competing: 1 },
    });
    const points = usage.body.points as Point[];
    expect(points).toHaveLength(12);
    expect(points.reduce((sum, point) => sum + point.submitted, 0)).toBe(3);
    expect(points.at(-1)).toMatchObject({ pending: 2, running: 1, cpu_millis: 100 });
    expect(usage.body.fair_share.share).toBeGreaterThan(0);

    // Another tenant sees only its own jobs, and the waiting tenant only as a count.
    const other = await call(h.url, 'GET', '/api/v1/usage/series', undefined, quiet);
    expect(other.status).toBe(200);
    expect(other.body.points).toHaveLength(48);
    expect((other.body.points as Point[]).every((point) => point.submitted === 0)).toBe(true);
    expect(other.body.fair_share).toEqual({ share: 0, position: null, competing: 1 });
    expect(JSON.stringify(other.body)).not.toContain('insights-busy');
  });

  it('lists every tenant with what its jobs hold of its quota now (admins only)', async () => {
    const listed = await call(h.url, 'GET', '/api/v1/tenants?limit=200', undefined, ADMIN_TOKEN);
    expect(listed.status).toBe(200);
    const byId = new Map(
      (listed.body.items as { tenant_id: string; usage: unknown }[]).map((t) => [t.tenant_id, t]),
    );
    expect(byId.get('insights-busy')).toMatchObject({
      max_cpu: 4,
      max_concurrent_jobs: 1,
      usage: { cpu: 0.1, memory_gi: 64 / 1024, gpu: 0, tpu: 0, running_jobs: 1, pending_jobs: 2 },
    });
    expect(byId.get('insights-quiet')?.usage).toEqual({
      cpu: 0,
      memory_gi: 0,
      gpu: 0,
      tpu: 0,
      running_jobs: 0,
      pending_jobs: 0,
    });
    expect((await call(h.url, 'GET', '/api/v1/tenants', undefined, busy)).status).toBe(403);
  });

  it('answers bad windows with a 400 naming the field, and the operator routes with a 403 for a tenant', async () => {
    for (const [query, field] of [
      ['hours=0', 'hours'],
      ['hours=721', 'hours'],
      ['buckets=1', 'buckets'],
      ['buckets=201', 'buckets'],
      ['hours=abc', 'hours'],
      ['since=yesterday', ''],
    ] as const) {
      const answer = await call(h.url, 'GET', `/api/v1/usage/series?${query}`, undefined, busy);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
      expect(JSON.stringify(answer.body.errors)).toContain(field);
    }
    expect((await call(h.url, 'GET', '/api/v1/usage/series')).status).toBe(401);
    expect((await call(h.url, 'GET', '/api/v1/usage/series', undefined, ADMIN_TOKEN)).status).toBe(
      403,
    );
    for (const path of ['/api/v1/admin/queue', '/api/v1/admin/offload'])
      expect((await call(h.url, 'GET', path, undefined, busy)).status).toBe(403);
    expect(
      (await call(h.url, 'GET', '/api/v1/admin/queue?buckets=500', undefined, ADMIN_TOKEN)).status,
    ).toBe(400);
  });

  it('shows operators the jobs waiting per tenant over time, admissions and the oldest waits', async () => {
    const queue = await call(
      h.url,
      'GET',
      '/api/v1/admin/queue?hours=2&buckets=24',
      undefined,
      ADMIN_TOKEN,
    );
    expect(queue.status).toBe(200);
    expect(queue.body.times).toHaveLength(24);
    expect(queue.body.admitted).toHaveLength(24);
    expect((queue.body.admitted as number[]).reduce((a, b) => a + b, 0)).toBe(1);
    expect(queue.body.pending).toEqual([
      { tenant: 'insights-busy', values: expect.arrayContaining([2]) },
    ]);
    expect((queue.body.pending[0].values as number[]).at(-1)).toBe(2);
    expect(queue.body.oldest_waiting).toEqual([
      {
        tenant: 'insights-busy',
        waiting: 2,
        oldest_created_at: expect.any(String),
        oldest_wait_seconds: expect.any(Number),
      },
    ]);
  });

  it('shows operators the RunPod pods, their prices and spend per tenant against budget', async () => {
    const empty = await call(h.url, 'GET', '/api/v1/admin/offload', undefined, ADMIN_TOKEN);
    expect(empty.body).toEqual({ pods: [], prices: [], spend: [] });

    await h.prisma.tenant.update({
      where: { id: 'insights-quiet' },
      data: { offloadBudgetMicros: 50_000_000n, offloadSpendMicros: 1_250_000n },
    });
    const pod = (state: 'running' | 'succeeded', price: bigint, minutesAgo: number) => ({
      id: randomUUID(),
      tenantId: 'insights-quiet',
      kubeNamespace: 'roam-insights-quiet',
      kubeJobName: `job-${randomUUID()}`,
      runpodPodId: `pod-${randomUUID().slice(0, 8)}`,
      gpuType: 'NVIDIA RTX A4000',
      dataCenter: 'EU-RO-1',
      pricePerHourMicros: price,
      state,
      costMicros: state === 'succeeded' ? 1_250_000n : 0n,
      createdAt: new Date(Date.now() - minutesAgo * 60_000),
      // A pod is charged when it ends: this one 28 minutes ago.
      endedAt: state === 'succeeded' ? new Date(Date.now() - 28 * 60_000) : null,
    });
    await h.prisma.offload.createMany({
      data: [pod('succeeded', 170_000n, 90), pod('running', 190_000n, 5)],
    });

    const overview = await call(h.url, 'GET', '/api/v1/admin/offload', undefined, ADMIN_TOKEN);
    expect(overview.status).toBe(200);
    expect(overview.body.pods.map((p: { state: string }) => p.state)).toEqual([
      'running',
      'succeeded',
    ]);
    expect(overview.body.prices).toEqual([
      {
        gpu_type: 'NVIDIA RTX A4000',
        pods: 2,
        last_price_per_hour_micros: 190_000,
        min_price_per_hour_micros: 170_000,
        max_price_per_hour_micros: 190_000,
      },
    ]);
    expect(overview.body.spend).toEqual([
      {
        tenant: 'insights-quiet',
        spend_micros: 1_250_000,
        budget_micros: 50_000_000,
        running_pods: 1,
      },
    ]);

    // The tenant's spend over time: nothing before the pod ended, its cost after, against budget.
    const series = await call(
      h.url,
      'GET',
      '/api/v1/usage/series?hours=1&buckets=12',
      undefined,
      quiet,
    );
    expect(series.status).toBe(200);
    expect(series.body.limits.offload_budget_micros).toBe(50_000_000);
    const spend = (series.body.points as { offload_spend_micros: number }[]).map(
      (point) => point.offload_spend_micros,
    );
    expect(spend.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(spend.slice(7)).toEqual([1_250_000, 1_250_000, 1_250_000, 1_250_000, 1_250_000]);
    // Another tenant's pods never show in it.
    const busySeries = await call(h.url, 'GET', '/api/v1/usage/series', undefined, busy);
    expect(
      (busySeries.body.points as { offload_spend_micros: number }[]).every(
        (point) => point.offload_spend_micros === 0,
      ),
    ).toBe(true);
  });
});
