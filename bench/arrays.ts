/**
 * `pnpm bench:arrays`: one large job array through the stack on this machine.
 *
 *  - submit: `POST /api/v1/arrays` of BENCH_ARRAY_SIZE elements (default 100,000), one request,
 *    wall time of the round trip;
 *  - admission: elements admitted per second over BENCH_ADMIT_SECONDS (default 20) while the
 *    scheduler works through the array (zero-duration elements, a cluster with room);
 *  - summary: `GET /api/v1/arrays/{id}` latency p50/p99 over 200 reads while admission runs;
 *  - cancel: `DELETE /api/v1/arrays/{id}` of what is left: time to the answer (a 202 for a large
 *    array) and until the summary says done (the reconciler cancels the rest).
 *
 * The gateway, scheduler and reconciler run as their own processes against the local Postgres
 * and NATS and an in-process Kubernetes simulator. Prints figures; asserts nothing.
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
import { fmt, percentile, sleep } from './figures.js';

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789';
const SIZE = Number(process.env.BENCH_ARRAY_SIZE ?? 100_000);
const ADMIT_SECONDS = Number(process.env.BENCH_ADMIT_SECONDS ?? 20);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'roam-bench-'));
  const prefix = testSubjectPrefix();
  const db = await createTestDatabase('bench_arrays');
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
    ROAM_ADMIN_TOKEN: ADMIN_TOKEN,
    ADMISSION_INTERVAL_MS: '100',
    KUBE_CREATE_CONCURRENCY: '64',
    ARRAY_MAX_SIZE: String(Math.max(SIZE, 1)),
    MAX_PENDING_JOBS_PER_TENANT: String(Math.max(SIZE, 1)),
  };
  const apps: AppProcess[] = [];
  try {
    console.log('starting gateway, scheduler and reconciler…');
    const ports = { gateway: 18100, scheduler: 18101, reconciler: 18102 };
    for (const [name, port] of Object.entries(ports))
      apps.push(await startApp(name, { ...env, PORT: String(port) }));
    const url = apps[0]!.url;
    const register = await fetch(`${url}/auth/register`, {
      method: 'POST',
      // As an admin: open registration would cap the limits asked for.
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
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

    console.log(`submit: one array of ${SIZE} elements…`);
    const t0 = performance.now();
    const response = await fetch(`${url}/api/v1/arrays`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        image: 'busybox',
        command: ['true'],
        resources: { cpu: '10m', memory: '16Mi' },
        array: { size: SIZE },
      }),
    });
    const submitMs = performance.now() - t0;
    const array = (await response.json()) as { id: string };
    if (response.status !== 201)
      throw new Error(`submit: ${response.status} ${JSON.stringify(array)}`);

    console.log(`admission and summary reads for ${ADMIT_SECONDS} s…`);
    const admitted = () =>
      db.prisma.job.count({ where: { arrayId: array.id, admittedAt: { not: null } } });
    const before = await admitted();
    const a0 = performance.now();
    const latencies: number[] = [];
    const readsEvery = (ADMIT_SECONDS * 1000) / 200;
    while (performance.now() - a0 < ADMIT_SECONDS * 1000) {
      const r0 = performance.now();
      await (await fetch(`${url}/api/v1/arrays/${array.id}`, { headers })).arrayBuffer();
      latencies.push(performance.now() - r0);
      await sleep(Math.max(0, readsEvery - (performance.now() - r0)));
    }
    const admitSeconds = (performance.now() - a0) / 1000;
    const after = await admitted();
    latencies.sort((a, b) => a - b);

    console.log('cancel what is left…');
    const c0 = performance.now();
    const cancel = await fetch(`${url}/api/v1/arrays/${array.id}`, { method: 'DELETE', headers });
    const answered = (await cancel.json()) as { array: { pending: number; running: number } };
    const cancelAnswerMs = performance.now() - c0;
    const left = answered.array.pending + answered.array.running;
    // A 202: the reconciler walks the rest; follow the summary's counters until done.
    for (;;) {
      const row = await db.prisma.jobArray.findUniqueOrThrow({ where: { id: array.id } });
      if (row.submitted + row.queued + row.admitted + row.running === 0) break;
      await sleep(500);
    }
    const cancelMs = performance.now() - c0;
    console.log('\n| measure | value |\n| --- | --- |');
    console.log(`| submit of ${SIZE} elements (one request) | ${fmt(submitMs, 0)} ms |`);
    console.log(
      `| admission | ${fmt((after - before) / admitSeconds, 0)} elements/s (${after - before} in ${fmt(admitSeconds)} s) |`,
    );
    console.log(
      `| summary read p50 / p99 | ${fmt(percentile(latencies, 50), 2)} / ${fmt(percentile(latencies, 99), 2)} ms (${latencies.length} reads) |`,
    );
    console.log(
      `| cancel of the rest: answer (${cancel.status}) / all cancelled | ${fmt(cancelAnswerMs, 0)} / ${fmt(cancelMs, 0)} ms (${left} left after the request) |`,
    );
  } finally {
    for (const app of apps) await stopApp(app);
    await sim.close();
    if (process.env.BENCH_KEEP_DB) console.log(`kept database: ${db.url}`);
    else await db.drop();
    await deleteTestStreams(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
