import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { workerEnv } from '@roam/config';
import { subjects } from '@roam/contracts';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { metricsRegistry, type ReadableSpan, recordSpansInMemory } from '@roam/telemetry';
import { connectTestNats, eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from './support/harness.js';
import { kubeJobName } from '@roam/kube';
import { StorageModule } from '../apps/storage/src/storage.module.js';

// Installed before any app boots: createRoamApp then finds a provider and keeps this one.
const spans = recordSpansInMemory();

/** One sample's value from the text exposition, 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }
  return 0;
}

async function scrape(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

const attr = (span: ReadableSpan, key: string): unknown => span.attributes[key];

describe('observability: one trace from HTTP through NATS to Kubernetes, and /metrics', () => {
  let h: Harness;
  let storage: RoamApp<unknown>;
  let key: string;

  beforeAll(async () => {
    // Admission only when woken (at boot and by the submit command), so the cycle that admits
    // the job runs in the scheduler's consumer span rather than in a timer's empty context.
    h = await startHarness('observability', {
      ADMISSION_INTERVAL_MS: '3600000',
      METRICS_SAMPLE_INTERVAL_MS: '200',
    });
    storage = await createRoamApp({
      name: 'storage',
      schema: workerEnv('storage'),
      module: StorageModule,
      env: h.env,
    });
    key = await register(h.url, 'tracer');
    await eventually('the tenant to be ready', async () => {
      const tenant = await h.prisma.tenant.findUnique({ where: { id: 'tracer' } });
      return tenant?.status === 'ready';
    });
    // The boot-time cycle has finished, so the submit's wake starts a cycle of its own.
    await eventually(
      'the first admission cycle',
      async () =>
        sample(await metricsRegistry.metrics(), 'roam_admission_cycle_duration_seconds_count') > 0,
    );
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
  });

  it('links the HTTP span, the scheduler consumer span and the Kubernetes create in one trace', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', command: ['true'], resources: { cpu: '100m', memory: '16Mi' } },
      key,
    );
    expect(submitted.status).toBe(201);
    const jobId = submitted.body.id as string;

    const server = await eventually('the HTTP server span', () =>
      spans
        .getFinishedSpans()
        .find(
          (span) =>
            span.name === 'POST /api/v1/jobs' &&
            attr(span, 'http.route') === '/api/v1/jobs' &&
            attr(span, 'http.response.status_code') === 201,
        ),
    );
    const traceId = server.spanContext().traceId;

    const consumer = await eventually('the scheduler consumer span', () =>
      spans
        .getFinishedSpans()
        .find(
          (span) =>
            span.name === `process ${subjects.job.submit}` &&
            attr(span, 'messaging.consumer.group.name') === 'scheduler_roam_cmd_v1_job_submit' &&
            span.spanContext().traceId === traceId,
        ),
    );
    expect(attr(consumer, 'roam.outcome')).toBe('ack');

    const create = await eventually('the Kubernetes create span', () =>
      spans
        .getFinishedSpans()
        .find(
          (span) =>
            span.name === 'kube create Job' &&
            attr(span, 'k8s.object.name') === kubeJobName(jobId, 1),
        ),
    );
    expect(create.spanContext().traceId).toBe(traceId);
    expect(create.kind).toBe(2); // SpanKind.CLIENT
    expect(server.kind).toBe(1); // SpanKind.SERVER
    expect(consumer.kind).toBe(4); // SpanKind.CONSUMER

    // The stored command carries the request's trace context for the outbox relay.
    const row = await h.prisma.outboxMessage.findUniqueOrThrow({ where: { id: jobId } });
    expect((row.envelope as { traceparent?: string }).traceparent).toMatch(
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`),
    );
  });

  it('serves the documented roam_ metrics on the gateway and on a worker', async () => {
    const names = [
      'roam_http_requests_total',
      'roam_http_request_duration_seconds',
      'roam_messages_handled_total',
      'roam_message_redeliveries_total',
      'roam_dead_letters_total',
      'roam_consumer_pending_messages',
      'roam_outbox_published_total',
      'roam_outbox_relayed_total',
      'roam_outbox_backlog_messages',
      'roam_admission_cycle_duration_seconds',
      'roam_jobs_admitted_total',
      'roam_queue_depth_jobs',
      'roam_admission_wait_seconds',
      'roam_reconcile_batch_duration_seconds',
      'roam_reconcile_lag_seconds',
      'roam_job_transitions_total',
      'roam_jobs',
      'roam_offload_spend_usd_micros_total',
      'roam_webhook_deliveries_total',
      'roam_failover_actions_total',
    ];
    for (const base of [h.url, storage.url]) {
      const text = await scrape(base);
      const declared = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
      expect(declared.filter((name) => !name.startsWith('roam_'))).toEqual([]);
      expect(names.filter((name) => !declared.includes(name))).toEqual([]);
    }
    // Sampled by the storage worker too: its consumers are none, the outbox gauge is shared.
    const jobs = await eventually('roam_jobs to count the tenant', async () => {
      const value = sample(await scrape(h.url), 'roam_jobs', { tenant: 'tracer' });
      return value > 0 ? value : undefined;
    });
    expect(jobs).toBeGreaterThan(0);
  });

  it('counts requests by route template, never by raw path', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', command: ['true'], resources: { cpu: '100m', memory: '16Mi' } },
      key,
    );
    expect(submitted.status).toBe(201);
    const jobId = submitted.body.id as string;
    const labels = { method: 'GET', route: '/api/v1/jobs/:id', status: '200' };
    const before = sample(await scrape(h.url), 'roam_http_requests_total', labels);
    expect((await call(h.url, 'GET', `/api/v1/jobs/${jobId}`, undefined, key)).status).toBe(200);
    expect((await call(h.url, 'GET', `/api/v1/jobs/${jobId}`, undefined, key)).status).toBe(200);
    const text = await scrape(h.url);
    expect(sample(text, 'roam_http_requests_total', labels)).toBe(before + 2);
    expect(sample(text, 'roam_http_request_duration_seconds_count', labels)).toBeGreaterThanOrEqual(
      2,
    );
    expect(text).not.toContain(jobId);
    // A path no route serves is one series, whatever the path.
    expect((await call(h.url, 'GET', `/no/such/${jobId}`)).status).toBe(404);
    const after = await scrape(h.url);
    expect(
      sample(after, 'roam_http_requests_total', { route: 'unmatched', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(jobId);
  });

  it('counts a dead-lettered message by subject and outcome', async () => {
    const subject = subjects.job.submit;
    const labels = { subject };
    const before = await scrape(h.url);
    const deadBefore = sample(before, 'roam_dead_letters_total', labels);
    const handledBefore = sample(before, 'roam_messages_handled_total', {
      subject,
      outcome: 'dead_letter',
    });
    const nc = await connectTestNats();
    try {
      await jetstream(nc).publish(
        `${h.env.NATS_SUBJECT_PREFIX}.${subject}`,
        new TextEncoder().encode('{not json'),
      );
    } finally {
      await nc.close();
    }
    await eventually('the dead letter to be counted', async () => {
      const text = await scrape(h.url);
      return sample(text, 'roam_dead_letters_total', labels) > deadBefore;
    });
    const text = await scrape(storage.url);
    expect(sample(text, 'roam_dead_letters_total', labels)).toBe(deadBefore + 1);
    expect(sample(text, 'roam_messages_handled_total', { subject, outcome: 'dead_letter' })).toBe(
      handledBefore + 1,
    );
  });
});
