/** The load the bench offers: tenants, open-loop single submits, batch submits, drain waits. */
import type pg from 'pg';
import { sleep } from '../figures.js';

export const ZERO_JOB = {
  image: 'busybox',
  command: ['true'],
  resources: { cpu: '10m', memory: '16Mi' },
};

export interface Tenant {
  id: string;
  headers: Record<string, string>;
}

/** Registers a tenant (with a webhook for `job.succeeded` when given) and waits until ready. */
export async function registerTenant(options: {
  gatewayUrl: string;
  db: pg.Pool;
  /** Registering as the admin lifts open registration's ceilings (two concurrent jobs…). */
  adminToken: string;
  id: string;
  maxConcurrentJobs?: number;
  webhookUrl?: string;
  /** Waits until the scheduler has provisioned the tenant (default); false when none runs. */
  awaitReady?: boolean;
}): Promise<Tenant> {
  const response = await fetch(`${options.gatewayUrl}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.adminToken}` },
    body: JSON.stringify({
      tenant_id: options.id,
      max_cpu: 100_000,
      max_memory_gi: 100_000,
      max_concurrent_jobs: options.maxConcurrentJobs ?? 100_000,
    }),
  });
  if (response.status !== 201)
    throw new Error(`registering ${options.id}: ${response.status} ${await response.text()}`);
  const { api_key: key } = (await response.json()) as { api_key: string };
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  while (options.awaitReady ?? true) {
    const { rows } = await options.db.query<{ status: string }>(
      'SELECT status FROM tenants WHERE id = $1',
      [options.id],
    );
    if (rows[0]?.status === 'ready') break;
    await sleep(100);
  }
  if (options.webhookUrl) {
    const hook = await fetch(`${options.gatewayUrl}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: options.webhookUrl, events: ['job.succeeded'] }),
    });
    if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${await hook.text()}`);
  }
  return { id: options.id, headers };
}

export interface OpenLoopResult {
  latencies: number[];
  accepted: number;
  offered: number;
  errors: Map<string, number>;
  seconds: number;
}

/**
 * POST /api/v1/jobs at `rate` per second for `seconds`, open loop: requests leave on schedule,
 * not when the previous one returns, so a slow server shows as latency, not as a lower rate.
 */
export async function submitOpenLoop(
  gatewayUrl: string,
  tenant: Tenant,
  rate: number,
  seconds: number,
): Promise<OpenLoopResult> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let accepted = 0;
  const total = Math.round(rate * seconds);
  const body = JSON.stringify(ZERO_JOB);
  const started = performance.now();
  const requests: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    requests.push(
      (async () => {
        const t0 = performance.now();
        try {
          const response = await fetch(`${gatewayUrl}/api/v1/jobs`, {
            method: 'POST',
            headers: tenant.headers,
            body,
            signal: AbortSignal.timeout(30_000),
          });
          await response.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (response.status === 201) accepted += 1;
          else errors.set(String(response.status), (errors.get(String(response.status)) ?? 0) + 1);
        } catch (error) {
          const code = String((error as { cause?: { code?: string } }).cause?.code ?? error);
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      })(),
    );
  }
  await Promise.all(requests);
  latencies.sort((a, b) => a - b);
  return {
    latencies,
    accepted,
    offered: total,
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

/** `count` jobs through POST /api/v1/jobs:batch, 1,000 a request, `clients` at a time. */
export async function submitBatches(
  gatewayUrl: string,
  tenant: Tenant,
  count: number,
  spec: object = ZERO_JOB,
  clients = 2,
): Promise<{ accepted: number; seconds: number; errors: Map<string, number> }> {
  const errors = new Map<string, number>();
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const size = Math.min(1000, count - next);
        next += size;
        const response = await fetch(`${gatewayUrl}/api/v1/jobs:batch`, {
          method: 'POST',
          headers: tenant.headers,
          body: JSON.stringify({ jobs: Array.from({ length: size }, () => spec) }),
        });
        await response.arrayBuffer();
        if (response.status === 201 || response.status === 200) accepted += size;
        else errors.set(String(response.status), (errors.get(String(response.status)) ?? 0) + 1);
      }
    }),
  );
  return { accepted, seconds: (performance.now() - started) / 1000, errors };
}

/**
 * Waits until `expected` of the tenant's jobs are finished, and their logs archived and
 * `job.succeeded` webhooks delivered (`delivered()`), giving up after `stallMs` without
 * progress. Returns when the last job finished (epoch ms, from the database).
 */
export async function waitForDrain(options: {
  db: pg.Pool;
  tenant: string;
  expected: number;
  delivered: () => number;
  stallMs?: number;
}): Promise<{ finished: number; lastFinishedAt: number; archived: number; delivered: number }> {
  const stallMs = options.stallMs ?? 60_000;
  let lastProgress = Date.now();
  let previous = -1;
  for (;;) {
    const { rows } = await options.db.query<{ finished: string; last: Date | null; logs: string }>(
      `SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled')) AS finished,
              max(finished_at) AS last,
              (SELECT count(*) FROM log_archives WHERE tenant_id = $1) AS logs
         FROM jobs WHERE tenant_id = $1`,
      [options.tenant],
    );
    const finished = Number(rows[0]?.finished ?? 0);
    const archived = Number(rows[0]?.logs ?? 0);
    const delivered = options.delivered();
    const progress = finished + archived + delivered;
    if (progress > previous) lastProgress = Date.now();
    previous = progress;
    const done =
      finished >= options.expected && archived >= options.expected && delivered >= options.expected;
    if (done || Date.now() - lastProgress > stallMs)
      return { finished, lastFinishedAt: rows[0]?.last?.getTime() ?? NaN, archived, delivered };
    // Once a second: the count reads every job and log archive of the tenant, and Postgres' CPU
    // per job is measured over this wait (polled 4 times a second, it was ~20% of Postgres'
    // buffer reads in a 3,000-job run).
    await sleep(1000);
  }
}
