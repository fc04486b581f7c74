/**
 * `pnpm bench:jobs`: jobs through the whole stack on this machine, and the machine's floor.
 *
 *  - floor: single-row Postgres commits/s and JetStream publishes/s (acked, pipelined);
 *  - submit: POST /api/v1/jobs at a fixed 500 req/s (open loop): latency p50/p99/p99.9 and
 *    accepted/s;
 *  - end to end: zero-duration jobs from accepted to succeeded, jobs/s;
 *  - batch: POST /api/v1/jobs:batch (1,000 per request, two clients), jobs/s.
 *
 * The gateway, scheduler and reconciler run as their own processes against the local
 * Postgres and NATS and an in-process Kubernetes simulator. Prints figures; asserts nothing.
 * BENCH_SUBMIT_SECONDS, BENCH_RATE, BENCH_E2E_JOBS, BENCH_BATCHES tune it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startSimulator } from '@roam/sim';
import {
  createTestDatabase,
  deleteTestStreams,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';

import { type AppProcess, startApp, stopApp } from '../test/support/processes.js';
import { jetstreamFloor, postgresFloor } from './floor.js';
import { fmt, percentile, sleep } from './figures.js';

const SUBMIT_SECONDS = Number(process.env.BENCH_SUBMIT_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const E2E_JOBS = Number(process.env.BENCH_E2E_JOBS ?? 3000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'roam-bench-'));
  const prefix = testSubjectPrefix();
  const db = await createTestDatabase('bench_jobs');
  const sim = await startSimulator({
    port: 0,
    speed: 1000,
    kubeconfigPath: join(dir, 'kubeconfig'),
    world: {
      pools: [{ name: 'bench', nodes: 40, capacity: { cpu: '64', memory: '256Gi', pods: '500' } }],
    },
    log: () => {},
  });
  const env = {
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '20',
    NATS_URL: testNatsUrl(),
    NATS_SUBJECT_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'warn',
    KUBECONFIG: sim.kubeconfigPath,
    ROAM_REGISTRATION: 'open',
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    ADMISSION_INTERVAL_MS: '100',
    KUBE_CREATE_CONCURRENCY: '64',
    MAX_BODY_BYTES: String(8 * 1024 * 1024),
  };
  const apps: AppProcess[] = [];
  try {
    console.log('machine floor: Postgres commits…');
    const pgFloor = await postgresFloor(db.url);
    console.log('machine floor: JetStream publishes…');
    const jsFloor = await jetstreamFloor(testNatsUrl(), prefix);
    console.log('starting gateway, scheduler and reconciler…');

    const ports = { gateway: 18000, scheduler: 18001, reconciler: 18002 };
    for (const [name, port] of Object.entries(ports))
      apps.push(await startApp(name, { ...env, PORT: String(port) }));
    const url = apps[0]!.url;
    const register = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant_id: 'bench',
        max_cpu: 100000,
        max_memory_gi: 100000,
        max_concurrent_jobs: 100000,
      }),
    });
    const { api_key: key } = (await register.json()) as { api_key: string };
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    while ((await db.prisma.tenant.findUnique({ where: { id: 'bench' } }))?.status !== 'ready')
      await sleep(100);
    const spec = { image: 'busybox', command: ['true'], resources: { cpu: '10m', memory: '16Mi' } };

    // Submit latency at a fixed rate (open loop: requests leave on schedule, not when the
    // previous one returns, so a slow server shows up as latency, not as a lower rate).
    console.log(`submit: ${RATE} req/s for ${SUBMIT_SECONDS} s…`);
    const latencies: number[] = [];
    let accepted = 0;
    const statuses = new Map<number | string, number>();
    const total = Math.round(RATE * SUBMIT_SECONDS);
    const started = performance.now();
    const requests: Promise<void>[] = [];
    for (let i = 0; i < total; i += 1) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      requests.push(
        (async () => {
          const t0 = performance.now();
          try {
            const response = await fetch(`${url}/api/v1/jobs`, {
              method: 'POST',
              headers,
              body: JSON.stringify(spec),
              signal: AbortSignal.timeout(10_000),
            });
            await response.arrayBuffer();
            latencies.push(performance.now() - t0);
            if (response.status === 201) accepted += 1;
            else statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          } catch (error) {
            const code = String((error as { cause?: { code?: string } }).cause?.code ?? error);
            statuses.set(code, (statuses.get(code) ?? 0) + 1);
          }
        })(),
      );
    }
    await Promise.all(requests);
    const submitSeconds = (performance.now() - started) / 1000;
    if (statuses.size > 0) console.log('submit errors:', Object.fromEntries(statuses));
    if (apps[0]!.child.exitCode !== null)
      throw new Error(`the gateway died: ${apps[0]!.output.join('')}`);
    latencies.sort((a, b) => a - b);

    // End to end: a burst through the batch endpoint, then wait for every job to succeed.
    console.log(`end to end: ${E2E_JOBS} zero-duration jobs…`);
    const before = await db.prisma.job.count({ where: { status: 'succeeded' } });
    const e2eStart = performance.now();
    for (let done = 0; done < E2E_JOBS; done += 1000) {
      const jobs = Array.from({ length: Math.min(1000, E2E_JOBS - done) }, () => spec);
      await fetch(`${url}/api/v1/jobs:batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jobs }),
      });
    }
    const target = before + E2E_JOBS + accepted;
    let succeeded = before;
    let lastProgress = performance.now();
    while (succeeded < target && performance.now() - lastProgress < 60_000) {
      await sleep(250);
      const now = await db.prisma.job.count({ where: { status: 'succeeded' } });
      if (now > succeeded) lastProgress = performance.now();
      succeeded = now;
    }
    const e2eSeconds = (performance.now() - e2eStart) / 1000;
    const e2eDone = succeeded - before;

    // Batch endpoint throughput: two clients, BATCHES requests of 1,000 specs.
    console.log(`batch: ${BATCHES} × 1,000 jobs…`);
    const batchBody = JSON.stringify({
      jobs: Array.from({ length: 1000 }, () => ({ ...spec, offload: 'required' })),
    });
    const batchStart = performance.now();
    let sent = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (sent < BATCHES) {
          sent += 1;
          const response = await fetch(`${url}/api/v1/jobs:batch`, {
            method: 'POST',
            headers,
            body: batchBody,
          });
          await response.arrayBuffer();
        }
      }),
    );
    const batchRate = (BATCHES * 1000) / ((performance.now() - batchStart) / 1000);

    const acceptedRate = accepted / submitSeconds;
    const e2eRate = e2eDone / e2eSeconds;
    console.log('');
    console.log('| measure | value | fraction of the floor |');
    console.log('|---|---|---|');
    console.log(`| Postgres single-row commits/s (8 clients) | ${fmt(pgFloor, 0)} | floor |`);
    console.log(`| JetStream acked publishes/s (256 in flight) | ${fmt(jsFloor, 0)} | floor |`);
    console.log(
      `| submit latency p50 / p99 / p99.9 at ${RATE} req/s | ${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 99))} / ${fmt(percentile(latencies, 99.9))} ms | |`,
    );
    console.log(
      `| submits accepted/s | ${fmt(acceptedRate, 0)} (${accepted}/${total}) | ${fmt(acceptedRate / pgFloor, 2)} of commits/s |`,
    );
    console.log(
      `| end to end jobs/s (accepted → succeeded) | ${fmt(e2eRate, 0)} (${e2eDone} jobs in ${fmt(e2eSeconds)} s) | ${fmt(e2eRate / pgFloor, 2)} of commits/s |`,
    );
    console.log(
      `| batch endpoint jobs/s | ${fmt(batchRate, 0)} | ${fmt(batchRate / jsFloor, 2)} of publishes/s |`,
    );
  } finally {
    for (const app of apps) await stopApp(app);
    await sim.close();
    // BENCH_KEEP_DB=1 keeps the database for looking at job timelines afterwards.
    if (process.env.BENCH_KEEP_DB) console.log(`kept database: ${db.url}`);
    else await db.drop();
    await deleteTestStreams(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
