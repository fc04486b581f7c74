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
import { testNatsUrl } from '@roam/testing';

import { openBenchStack } from './bench-stack.js';
import { jetstreamFloor, postgresFloor } from './floor.js';
import { fmt, percentile, sleep } from './figures.js';

const SUBMIT_SECONDS = Number(process.env.BENCH_SUBMIT_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const E2E_JOBS = Number(process.env.BENCH_E2E_JOBS ?? 3000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);

async function main(): Promise<void> {
  const stack = await openBenchStack('bench_jobs');
  const { db, prefix } = stack;
  try {
    console.log('machine floor: Postgres commits…');
    const pgFloor = await postgresFloor(db.url);
    console.log('machine floor: JetStream publishes…');
    const jsFloor = await jetstreamFloor(testNatsUrl(), prefix);
    console.log('starting gateway, scheduler and reconciler…');
    const { url, headers, gateway } = await stack.start(
      { gateway: 18000, scheduler: 18001, reconciler: 18002 },
      {
        RATE_LIMIT_PER_SECOND: '100000',
        RATE_LIMIT_BURST: '100000',
        MAX_BODY_BYTES: String(8 * 1024 * 1024),
      },
    );
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
    if (gateway.child.exitCode !== null)
      throw new Error(`the gateway died: ${gateway.output.join('')}`);
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
    await stack.close();
  }
}

await main();
