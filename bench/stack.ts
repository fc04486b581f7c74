/**
 * `pnpm bench:stack`: the whole stack as `pnpm dev` runs it (the launcher, every app, the
 * Kubernetes simulator, the S3 server, embedded PostgreSQL and nats-server), isolated on its
 * own ports and state directory, on a simulated cluster large enough not to be the limit, with
 * zero-duration jobs. Prints one table of figures and asserts nothing; see bench/stack/ and the
 * README's Benchmarks section. `--help` lists the options.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { jetstreamFloorOwnServer, postgresFloor } from './floor.js';
import {
  backendDelta,
  cpuDelta,
  type CpuSnapshot,
  snapshotBackends,
  snapshotCpu,
  TEST_BED,
} from './stack/cpu.js';
import { percentile } from './figures.js';
import {
  registerTenant,
  submitBatches,
  submitOpenLoop,
  type Tenant,
  waitForDrain,
} from './stack/load.js';
import { KubeJobWatch, WebhookReceiver } from './stack/observers.js';
import { summariseProfiles } from './stack/profile.js';
import {
  portsFrom,
  type RunningStack,
  startStack,
  stopStack,
  waitReady,
} from './stack/stack-process.js';
import { type StageDelay, stageDelays } from './stack/timeline.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  allowPositionals: true,
  options: {
    jobs: { type: 'string', default: process.env.BENCH_STACK_JOBS ?? '10000' },
    rate: { type: 'string', default: process.env.BENCH_STACK_RATE ?? '500' },
    seconds: { type: 'string', default: process.env.BENCH_STACK_SECONDS ?? '10' },
    backlog: { type: 'string', default: process.env.BENCH_STACK_BACKLOG ?? '100000' },
    'skip-backlog': { type: 'boolean', default: false },
    'skip-cold-start': { type: 'boolean', default: false },
    nodes: { type: 'string', default: '100' },
    'pods-per-node': { type: 'string', default: '110' },
    'sim-speed': { type: 'string', default: '1000' },
    port: { type: 'string', default: process.env.BENCH_STACK_PORT ?? '8600' },
    'cpu-prof': { type: 'string' },
    'print-profiles': { type: 'string' },
    'pg-statements': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`pnpm bench:stack [options]
  --jobs N            burst size through the batch endpoint (default 10000)
  --rate R            open-loop single submits per second (default 500)
  --seconds S         how long the open-loop submit runs (default 10)
  --backlog N         jobs kept pending for another tenant in the second pass (default 100000)
  --skip-backlog      no second pass
  --skip-cold-start   no restart at the end
  --nodes N, --pods-per-node N   the simulated cluster (default 100 × 110)
  --sim-speed X       simulated seconds per real second (default 1000)
  --port P            first of 14 consecutive ports the stack uses (default 8600)
  --cpu-prof DIR      run every Node process with --cpu-prof into DIR; print top self time
  --print-profiles DIR  only print the top self time of the profiles already in DIR
  --pg-statements     load pg_stat_statements into the embedded Postgres; print each burst's
                      top statements (calls, rows, execution and planning ms per job)
  --keep              keep the state directory (database, logs) afterwards
Environment: BENCH_STACK_JOBS, BENCH_STACK_RATE, BENCH_STACK_SECONDS, BENCH_STACK_BACKLOG,
BENCH_STACK_PORT.
Quick run (about a minute): --jobs 2000 --rate 200 --seconds 5 --skip-backlog`);
  process.exit(0);
}
const JOBS = Number(args.jobs);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BACKLOG = args['skip-backlog'] ? 0 : Number(args.backlog);
const ports = portsFrom(Number(args.port));
const cpuProfDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
const PG_STATEMENTS = args['pg-statements'];
/** The statements `--pg-statements` prints for each burst. */
const TOP_STATEMENTS = 25;

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const log = (message: string) => console.error(`[bench] ${message}`);

const snapshot = (stack: RunningStack): CpuSnapshot => snapshotCpu(stack.child.pid!);

interface PassResult {
  submit: {
    p50: number;
    p99: number;
    p999: number;
    accepted: number;
    offered: number;
    errors: string;
  };
  singleE2e: number;
  batchIntake: number;
  burstE2e: number;
  burstDone: number;
  stages: StageDelay[];
  cpuPerJob: Map<string, number>;
  /** Postgres CPU per job by the client app its backends served (`bench`: this bench). */
  postgresPerJob: Map<string, number>;
  /** Postgres sessions opened during the burst (each one a new backend process). */
  postgresSessions: number;
  /** Autovacuum and autoanalyze time during the burst, ms per job (wall). */
  vacuumMsPerJob: number;
  /** `--pg-statements`: the burst's costliest statements. */
  statements: StatementCost[];
}

interface StatementCost {
  calls: number;
  rows: number;
  execMs: number;
  planMs: number;
  query: string;
}

/** Starts counting the burst's statements afresh (`--pg-statements`). */
async function resetStatements(db: pg.Pool): Promise<void> {
  if (!PG_STATEMENTS) return;
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await db.query('SELECT pg_stat_statements_reset()');
}

/** The statements that took the most time (execution and planning, wall) since the reset. */
async function topStatements(db: pg.Pool): Promise<StatementCost[]> {
  if (!PG_STATEMENTS) return [];
  const { rows } = await db.query<{
    calls: string;
    rows: string;
    exec_ms: number;
    plan_ms: number;
    query: string;
  }>(
    `SELECT calls, rows, total_exec_time AS exec_ms, total_plan_time AS plan_ms,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
     FROM pg_stat_statements
     ORDER BY total_exec_time + total_plan_time DESC LIMIT $1`,
    [TOP_STATEMENTS],
  );
  return rows.map((row) => ({
    calls: Number(row.calls),
    rows: Number(row.rows),
    execMs: row.exec_ms,
    planMs: row.plan_ms,
    query: row.query,
  }));
}

const describeErrors = (errors: Map<string, number>) =>
  errors.size ? [...errors].map(([k, v]) => `${v}× ${k}`).join(', ') : '0';

/** One pass: open-loop single submits, then a batch burst; both drained to delivered events. */
async function pass(
  stack: RunningStack,
  db: pg.Pool,
  receiver: WebhookReceiver,
  watch: KubeJobWatch,
  label: string,
  tenants: { submit: Tenant; burst: Tenant },
): Promise<PassResult> {
  const { submit: submitTenant, burst: burstTenant } = tenants;
  log(`${label}: single submits, ${RATE}/s for ${SECONDS} s…`);
  const submitStart = Date.now();
  const submit = await submitOpenLoop(stack.gatewayUrl, submitTenant, RATE, SECONDS);
  const single = await drain(db, receiver, submitTenant, submit.accepted);
  const singleE2e = single.finished / ((single.lastFinishedAt - submitStart) / 1000);

  log(`${label}: burst of ${JOBS} jobs through the batch endpoint…`);
  await resetStatements(db);
  const backendsBefore = await snapshotBackends(db);
  const before = snapshot(stack);
  const burstStart = Date.now();
  const batch = await submitBatches(stack.gatewayUrl, burstTenant, JOBS);
  if (batch.errors.size) log(`batch errors: ${describeErrors(batch.errors)}`);
  const burst = await drain(db, receiver, burstTenant, batch.accepted);
  const after = snapshot(stack);
  const backendsAfter = await snapshotBackends(db);
  const statements = await topStatements(db);
  const perJob = (ms: Map<string, number>) =>
    new Map([...ms].map(([name, total]) => [name, total / Math.max(1, batch.accepted)]));
  const cpuPerJob = perJob(cpuDelta(before, after));
  const postgresPerJob = perJob(backendDelta(backendsBefore, backendsAfter));
  const postgresSessions = backendsAfter.sessions - backendsBefore.sessions;
  const vacuumMsPerJob =
    backendsAfter.vacuumMs !== undefined && backendsBefore.vacuumMs !== undefined
      ? (backendsAfter.vacuumMs - backendsBefore.vacuumMs) / Math.max(1, batch.accepted)
      : NaN;
  return {
    submit: {
      p50: percentile(submit.latencies, 50),
      p99: percentile(submit.latencies, 99),
      p999: percentile(submit.latencies, 99.9),
      accepted: submit.accepted,
      offered: submit.offered,
      errors: describeErrors(submit.errors),
    },
    singleE2e,
    batchIntake: batch.accepted / batch.seconds,
    burstE2e: burst.finished / ((burst.lastFinishedAt - burstStart) / 1000),
    burstDone: burst.finished,
    stages: await stageDelays(db, burstTenant.id, watch.created, receiver.delivered),
    cpuPerJob,
    postgresPerJob,
    postgresSessions,
    vacuumMsPerJob,
    statements,
  };
}

async function drain(db: pg.Pool, receiver: WebhookReceiver, tenant: Tenant, expected: number) {
  const result = await waitForDrain({
    db,
    tenant: tenant.id,
    expected,
    delivered: () => receiver.count(tenant.id),
  });
  if (result.finished < expected || result.archived < expected || result.delivered < expected) {
    log(
      `${tenant.id}: stalled at ${result.finished}/${expected} finished, ${result.archived} logs archived, ${result.delivered} events delivered`,
    );
    // What the jobs that did not succeed are doing, so a stall can be told apart from failures.
    const { rows } = await db.query<{ state: string; count: string }>(
      `SELECT concat_ws(' / ', status, phase, reason, left(message, 160)) AS state, count(*)
         FROM jobs WHERE tenant_id = $1 AND status <> 'succeeded'
        GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
      [tenant.id],
    );
    for (const row of rows) log(`  ${row.count}× ${row.state}`);
  }
  return result;
}

/** The backlog tenant: one job that never ends holds its only slot; the rest stay pending. */
async function fillBacklog(stack: RunningStack, db: pg.Pool, tenant: Tenant): Promise<void> {
  const blocker = await fetch(`${stack.gatewayUrl}/api/v1/jobs`, {
    method: 'POST',
    headers: tenant.headers,
    body: JSON.stringify({
      image: 'busybox',
      command: ['sleep', '1000000000'],
      resources: { cpu: '10m', memory: '16Mi' },
    }),
  });
  if (blocker.status !== 201) throw new Error(`blocker job: ${blocker.status}`);
  log(`backlog: ${BACKLOG} pending jobs for another tenant…`);
  const result = await submitBatches(stack.gatewayUrl, tenant, BACKLOG);
  if (result.errors.size) log(`backlog errors: ${describeErrors(result.errors)}`);
  // Wait until they are all in the ledger, so the next pass starts with the backlog in place.
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*) AS n FROM jobs WHERE tenant_id = 'bench-backlog' AND status = 'pending'",
    );
    if (Number(rows[0]?.n) >= result.accepted) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'roam-bench-stack-'));
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const options = {
    root,
    stateDir,
    ports,
    nodes: Number(args.nodes),
    podsPerNode: Number(args['pods-per-node']),
    simSpeed: Number(args['sim-speed']),
    cpuProfDir,
    pgStatements: PG_STATEMENTS,
  };
  const receiver = new WebhookReceiver();
  await receiver.start();
  log(`starting the stack (state in ${stateDir}, ports ${ports.gateway}–${ports.nats})…`);
  let stack = await startStack(options, 'first');
  let db: pg.Pool | undefined;
  let watch: KubeJobWatch | undefined;
  const load = loadavg();
  try {
    const t0 = performance.now();
    await waitReady(stack, ports);
    const firstStartSeconds = (performance.now() - t0) / 1000;
    db = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });
    watch = new KubeJobWatch(stack.simUrl);
    watch.start();

    log('machine floor: Postgres commits/s, JetStream acked publishes/s…');
    const pgFloor = await postgresFloor(stack.databaseUrl);
    // The stack's nats-server admits only roam's users: the floor runs on a twin of it.
    const jsFloor = await jetstreamFloorOwnServer(ports.nats + 1);

    // Every tenant up front: registering one under load would measure that instead.
    const register = (id: string, extra: { maxConcurrentJobs?: number; webhook?: boolean } = {}) =>
      registerTenant({
        gatewayUrl: stack.gatewayUrl,
        db: db!,
        adminToken: stack.adminToken,
        id,
        ...(extra.maxConcurrentJobs ? { maxConcurrentJobs: extra.maxConcurrentJobs } : {}),
        ...(extra.webhook ? { webhookUrl: receiver.url } : {}),
      });
    const tenantsFor = async (label: string) => ({
      submit: await register(`bench-submit-${label}`, { webhook: true }),
      burst: await register(`bench-burst-${label}`, { webhook: true }),
    });
    const coldTenant = await register('bench-cold');
    const first = await tenantsFor('a');
    const second = BACKLOG > 0 ? await tenantsFor('b') : undefined;
    const backlogTenant =
      BACKLOG > 0 ? await register('bench-backlog', { maxConcurrentJobs: 1 }) : undefined;
    const passes: { label: string; result: PassResult }[] = [];
    passes.push({
      label: 'empty queue',
      result: await pass(stack, db, receiver, watch, 'a', first),
    });
    if (second && backlogTenant) {
      await fillBacklog(stack, db, backlogTenant);
      passes.push({
        label: `${BACKLOG.toLocaleString('en')} pending`,
        result: await pass(stack, db, receiver, watch, 'b', second),
      });
    }

    let cold: { live: number; ready: number; draining: number } | undefined;
    if (!args['skip-cold-start']) {
      const { rows } = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM jobs WHERE status IN ('pending', 'running')",
      );
      log('cold start: stopping and restarting the stack…');
      await db.end();
      db = undefined;
      await watch.close();
      watch = undefined;
      await stopStack(stack);
      const t1 = performance.now();
      stack = await startStack(options, 'restart');
      await waitReady(stack, ports);
      const ready = (performance.now() - t1) / 1000;
      db = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });
      const probe = await submitBatches(stack.gatewayUrl, coldTenant, 100);
      await waitForDrain({
        db,
        tenant: coldTenant.id,
        expected: probe.accepted,
        delivered: () => Infinity,
      });
      cold = { live: Number(rows[0]?.n), ready, draining: (performance.now() - t1) / 1000 };
    }

    printTable({ pgFloor, jsFloor, firstStartSeconds, passes, cold, load });
    for (const { label, result } of passes) printStatements(label, result);
  } finally {
    await watch?.close();
    await db?.end();
    await stopStack(stack);
    await receiver.close();
    if (args.keep) log(`kept ${stateDir}`);
    else await rm(stateDir, { recursive: true, force: true });
  }
  if (cpuProfDir) await printProfiles(cpuProfDir);
}

function printTable(r: {
  pgFloor: number;
  jsFloor: number;
  firstStartSeconds: number;
  passes: { label: string; result: PassResult }[];
  cold: { live: number; ready: number; draining: number } | undefined;
  load: number[];
}): void {
  const cols = r.passes.map((p) => p.label);
  const row = (measure: string, cells: string[]) =>
    console.log(`| ${measure} | ${cells.join(' | ')} |`);
  const each = (f: (p: PassResult) => string) => r.passes.map((p) => f(p.result));
  console.log('');
  console.log(
    `bench:stack: ${JOBS.toLocaleString('en')}-job burst, ${RATE} req/s for ${SECONDS} s, ` +
      `${args.nodes} nodes × ${args['pods-per-node']} pods, load average at start ${r.load.map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log('');
  console.log(`| measure | ${cols.join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|`);
  row('floor: Postgres single-row commits/s (8 clients)', [
    fmt(r.pgFloor),
    ...cols.slice(1).map(() => ''),
  ]);
  row('floor: JetStream acked publishes/s (256 in flight)', [
    fmt(r.jsFloor),
    ...cols.slice(1).map(() => ''),
  ]);
  row(
    `submit latency p50 / p99 / p99.9 at ${RATE} req/s (ms)`,
    each((p) => `${fmt(p.submit.p50, 1)} / ${fmt(p.submit.p99, 1)} / ${fmt(p.submit.p999, 1)}`),
  );
  row(
    'submit accepted / offered; errors',
    each((p) => `${p.submit.accepted} / ${p.submit.offered}; ${p.submit.errors}`),
  );
  row(
    'end to end jobs/s, single submits (first submit → last finished)',
    each((p) => fmt(p.singleE2e)),
  );
  row(
    'batch intake jobs/s (1,000 a request, 2 clients)',
    each((p) => fmt(p.batchIntake)),
  );
  row(
    `end to end jobs/s, ${JOBS.toLocaleString('en')}-job batch burst`,
    each((p) => `${fmt(p.burstE2e)} (${p.burstDone} finished)`),
  );
  for (const [i, stage] of (r.passes[0]?.result.stages ?? []).entries())
    row(
      `burst stage p50 / p99 (ms): ${stage.stage}`,
      each((p) => {
        const s = p.stages[i]!;
        return `${fmt(s.p50)} / ${fmt(s.p99)}${s.n < p.burstDone ? ` (n=${s.n})` : ''}`;
      }),
    );
  const names = [...new Set(r.passes.flatMap((p) => [...p.result.cpuPerJob.keys()]))].sort(
    (a, b) =>
      (r.passes[0]?.result.cpuPerJob.get(b) ?? 0) - (r.passes[0]?.result.cpuPerJob.get(a) ?? 0),
  );
  for (const name of names)
    row(
      `CPU ms per job (burst): ${name}${TEST_BED.has(name) ? ' (test bed)' : ''}`,
      each((p) => fmt(p.cpuPerJob.get(name) ?? NaN, 2)),
    );
  row(
    'Postgres during the burst: sessions opened; autovacuum + autoanalyze ms per job (wall)',
    each((p) => `${p.postgresSessions}; ${fmt(p.vacuumMsPerJob, 2)}`),
  );
  row(
    'Postgres CPU ms per job, by the client its backends served (or server process)',
    each((p) => {
      const byClient = [...p.postgresPerJob].sort(([, a], [, b]) => b - a);
      const rest = (p.cpuPerJob.get('postgres') ?? 0) - byClient.reduce((s, [, ms]) => s + ms, 0);
      return [
        ...byClient,
        [
          'other (processes that came and went: autovacuum workers, closed sessions)',
          rest,
        ] as const,
      ]
        .map(([name, ms]) => `${name} ${fmt(ms, 2)}`)
        .join(' · ');
    }),
  );
  const sum = (p: PassResult, keep: (name: string) => boolean) =>
    [...p.cpuPerJob].filter(([n]) => keep(n)).reduce((s, [, ms]) => s + ms, 0);
  row(
    'CPU ms per job: roam (apps + Postgres + NATS)',
    each((p) =>
      fmt(
        sum(p, (n) => !TEST_BED.has(n)),
        2,
      ),
    ),
  );
  row(
    'CPU ms per job: everything',
    each((p) =>
      fmt(
        sum(p, () => true),
        2,
      ),
    ),
  );
  row('stack start to every app ready (s)', [
    fmt(r.firstStartSeconds, 1),
    ...cols.slice(1).map(() => ''),
  ]);
  if (r.cold)
    row(
      `cold restart with ${r.cold.live.toLocaleString('en')} live jobs: ready / draining again (s)`,
      [...cols.slice(0, -1).map(() => ''), `${fmt(r.cold.ready, 1)} / ${fmt(r.cold.draining, 1)}`],
    );
}

/** `--pg-statements`: where Postgres spent the burst, statement by statement, per job. */
function printStatements(label: string, result: PassResult): void {
  if (result.statements.length === 0) return;
  const jobs = Math.max(1, result.burstDone);
  console.log(
    `\nPostgres statements of the burst (${label}), by execution + planning time (wall):`,
  );
  console.log('| calls/job | rows/call | exec ms/job | plan ms/job | statement |');
  console.log('|---|---|---|---|---|');
  for (const st of result.statements)
    console.log(
      `| ${fmt(st.calls / jobs, 2)} | ${fmt(st.rows / Math.max(1, st.calls), 1)} | ` +
        `${fmt(st.execMs / jobs, 3)} | ${fmt(st.planMs / jobs, 3)} | \`${st.query.replaceAll('|', '¦')}\` |`,
    );
}

async function printProfiles(dir: string): Promise<void> {
  const summaries = await summariseProfiles(dir, root);
  for (const summary of summaries.sort((a, b) => b.totalMs - a.totalMs)) {
    const name = summary.name;
    console.log('');
    // Sample spacing is wall-clock time: on a loaded machine the ms overstate CPU, the shares hold.
    console.log(`${name} (${summary.file}): ${fmt(summary.totalMs)} ms sampled; top self time`);
    for (const f of summary.top)
      console.log(`  ${fmt(f.ms).padStart(7)} ms ${fmt(f.share * 100, 1).padStart(5)}%  ${f.name}`);
  }
}

if (args['print-profiles']) await printProfiles(resolve(args['print-profiles']));
else await main();
