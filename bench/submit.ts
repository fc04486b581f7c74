/**
 * `pnpm bench:submit`: single submits (`POST /api/v1/jobs`) against the stack `pnpm dev` runs,
 * open loop, and what they cost: latency p50/p99/p99.9, errors, and CPU ms per submit of each
 * process over the submit window. `--apps gateway` runs the gateway alone (jobs stay pending),
 * which shows the submit path's own cost apart from the pipeline competing for the same cores.
 * `--cpu-prof DIR` profiles every Node process and prints each one's top self time. Asserts
 * nothing; `--help` lists the options.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { fmt, percentile } from './figures.js';
import { cpuDelta, snapshotCpu, TEST_BED } from './stack/cpu.js';
import { registerTenant, submitOpenLoop } from './stack/load.js';
import { summariseProfiles } from './stack/profile.js';
import { portsFrom, startStack, stopStack, waitReady } from './stack/stack-process.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '200' },
    apps: { type: 'string' },
    port: { type: 'string', default: process.env.BENCH_SUBMIT_PORT ?? '8700' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`pnpm bench:submit [options]
  --rate R        single submits per second, open loop (default 200)
  --seconds S     how long (default 10)
  --warmup N      submits at 50/s before measuring (default 200)
  --apps A,B      only these apps (ROAM_STACK_APPS; gateway first), e.g. --apps gateway
  --port P        first of the 14 consecutive ports the stack uses (default 8700)
  --cpu-prof DIR  profile every Node process into DIR; print each one's top self time`);
  process.exit(0);
}
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const apps = args.apps?.split(',').map((s) => s.trim());
const ports = portsFrom(Number(args.port));
const cpuProfDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
const log = (message: string) => console.error(`[bench] ${message}`);

const stateDir = await mkdtemp(join(tmpdir(), 'roam-bench-submit-'));
if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
const stack = await startStack(
  { root, stateDir, ports, nodes: 100, podsPerNode: 110, simSpeed: 1000, cpuProfDir, apps },
  'first',
);
const db = new pg.Pool({
  connectionString: stack.databaseUrl,
  max: 2,
});
try {
  await waitReady(stack, ports, 180_000, apps?.length ?? 7);
  const tenant = await registerTenant({
    gatewayUrl: stack.gatewayUrl,
    db,
    adminToken: stack.adminToken,
    id: 'bench-submit',
    awaitReady: apps === undefined || apps.includes('scheduler'),
  });
  log(`warm-up: ${args.warmup} submits at 50/s…`);
  await submitOpenLoop(stack.gatewayUrl, tenant, 50, Number(args.warmup) / 50);
  const load = loadavg();
  log(`${RATE} submits/s for ${SECONDS} s…`);
  const before = snapshotCpu(stack.child.pid!);
  const result = await submitOpenLoop(stack.gatewayUrl, tenant, RATE, SECONDS);
  const after = snapshotCpu(stack.child.pid!);
  const errors = result.errors.size
    ? [...result.errors].map(([k, v]) => `${v}× ${k}`).join(', ')
    : '0';
  const lat = result.latencies;
  console.log('');
  console.log(
    `bench:submit: ${RATE} req/s for ${SECONDS} s, apps ${apps?.join(',') ?? 'all'}, load average at start ${load.map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(
    `latency p50 / p99 / p99.9 (ms): ${fmt(percentile(lat, 50))} / ${fmt(percentile(lat, 99))} / ${fmt(percentile(lat, 99.9))}`,
  );
  console.log(
    `accepted ${result.accepted} / ${result.offered} in ${fmt(result.seconds, 1)} s; errors ${errors}`,
  );
  const perSubmit = [...cpuDelta(before, after)]
    .map(([name, ms]) => [name, ms / Math.max(1, result.accepted)] as const)
    .sort((a, b) => b[1] - a[1]);
  for (const [name, ms] of perSubmit)
    console.log(
      `CPU ms per submit: ${name}${TEST_BED.has(name) ? ' (test bed)' : ''}: ${fmt(ms, 2)}`,
    );
} finally {
  await db.end();
  await stopStack(stack);
  await rm(stateDir, { recursive: true, force: true });
}
if (cpuProfDir) {
  for (const summary of (await summariseProfiles(cpuProfDir, root, 20)).sort(
    (a, b) => b.totalMs - a.totalMs,
  )) {
    console.log('');
    console.log(`${summary.name} (${summary.file}): ${fmt(summary.totalMs, 0)} ms sampled`);
    for (const f of summary.top)
      console.log(
        `  ${fmt(f.ms, 0).padStart(7)} ms ${fmt(f.share * 100, 1).padStart(5)}%  ${f.name}`,
      );
  }
}
