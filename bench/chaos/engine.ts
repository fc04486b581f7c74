// The chaos run: an isolated stack, traffic flowing, a seeded loop of faults, then quiescence
// and the checks (bench/chaos/checks.ts). `pnpm chaos` (bench/chaos.ts) and test/chaos.test.ts
// both run this.
import { join } from 'node:path';

import { CHECKS, evaluate, type CheckName, type Observed, type Violation } from './checks.js';
import { type Fault, FaultInjector } from './faults.js';
import { FeedReader } from './feed.js';
import { KubeJobWatcher, QuotaSampler } from './observers.js';
import { Random, sleep } from './random.js';
import { WebhookReceiver } from './receiver.js';
import { ROOT, startChaosStack } from './stack.js';
import { OUTSTANDING_PER_SLOT, Workload } from './workload.js';

export interface ChaosOptions {
  seed: number;
  cycles: number;
  basePort: number;
  stateDir: string;
  /** Pause between two faults (a random share of it is added). */
  cycleMs: number;
  /** How long a SIGSTOPped process stays stopped (past the leases it holds). */
  pauseMs: number;
  /** After the last fault, how long the stack gets to settle before the checks give up. */
  quiesceMs: number;
  /** Workload pacing per lane. */
  tickMs: number;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<ChaosOptions, 'log'> = {
  seed: 1,
  cycles: 20,
  basePort: 21600,
  stateDir: join(ROOT, '.roam', 'chaos'),
  cycleMs: 4_000,
  pauseMs: 15_000,
  quiesceMs: 120_000,
  tickMs: 300,
};

export interface ChaosReport {
  seed: number;
  cycles: number;
  durationSeconds: number;
  faults: Record<string, number>;
  faultLog: Fault[];
  jobsAccepted: number;
  jobsByStatus: Record<string, number>;
  requests: Workload['stats'];
  actions: number;
  webhookRequests: number;
  webhookEvents: number;
  feedEvents: number;
  feedReconnects: number;
  /** Why the feed streams ended, counted. */
  feedEndings: Record<string, number>;
  kubeJobs: number;
  /** Offload stand-ins: Jobs only ever seen suspended (see KubeJobWatcher). */
  kubeStandIns: number;
  watchDrops: number;
  quotaSamples: number;
  quiesceSeconds: number;
  checks: Record<CheckName, 'held' | 'violated'>;
  violations: Violation[];
  /** The first refusals (4xx) the workload got, as `status body`. */
  refusals: string[];
  logFile: string;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = new Random(options.seed);
  const { log } = options;
  log(
    `chaos: seed ${options.seed}, ${options.cycles} cycles; starting an isolated stack on ports ${options.basePort}…`,
  );
  const stack = await startChaosStack({ stateDir: options.stateDir, basePort: options.basePort });
  log(`chaos: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (log: ${stack.logFile})`);

  // Separate streams of randomness, so the fault schedule does not shift with traffic timing.
  const receiver = new WebhookReceiver(new Random(options.seed + 1));
  const webhookUrl = await receiver.start();
  const workload = new Workload(stack.gateway, stack.adminToken, new Random(options.seed + 2), {
    webhookUrl,
    tickMs: options.tickMs,
    databaseUrl: stack.databaseUrl,
  });
  const kubeJobs = new KubeJobWatcher(`http://127.0.0.1:${stack.ports.sim}`);
  const quota = new QuotaSampler(stack.databaseUrl, 250);
  const feeds = new Map<string, FeedReader>();
  const faults = new FaultInjector(stack, receiver, random, { pauseMs: options.pauseMs });
  let violations: Violation[] = [];
  let jobsByStatus: Record<string, number> = {};
  let quiesceSeconds = 0;
  try {
    kubeJobs.start();
    quota.start();
    await workload.setUp();
    for (const tenant of workload.tenants) {
      const feed = new FeedReader(stack.gateway, tenant.key);
      feeds.set(tenant.id, feed);
      feed.start();
    }
    workload.start();

    for (let cycle = 1; cycle <= options.cycles; cycle += 1) {
      await sleep(options.cycleMs / 2 + random.next() * options.cycleMs);
      const fault = await faults.inject(cycle);
      log(
        `chaos: cycle ${cycle}/${options.cycles}: ${fault.kind} ${fault.target}${fault.pid ? ` (pid ${fault.pid})` : ''}${fault.note ? `, ${fault.note}` : ''}; ${workload.accepted.size} jobs accepted`,
      );
      // Each fault is followed by recovery before the next: the gateway answers again.
      await waitFor(() => ready(stack.gateway), 60_000);
    }
    log('chaos: faults over; stopping the traffic and waiting for the stack to settle…');
    await workload.stop();

    const observed: Observed = {
      workload,
      feeds,
      receiver,
      kubeJobs,
      quota,
      runpodUrl: `http://127.0.0.1:${stack.ports.runpod}`,
      databaseUrl: stack.databaseUrl,
    };
    const quietFrom = Date.now();
    // The stack gets `quiesceMs` to settle, renewed whenever jobs are still finishing (a
    // tenant's backlog drains at its concurrency limit), up to ten times that in all.
    let deadline = quietFrom + options.quiesceMs;
    const cap = quietFrom + options.quiesceMs * 10;
    let finished = -1;
    for (;;) {
      const evaluation = await evaluate(observed).catch((err: unknown) => ({
        violations: [
          { check: 'jobs-finish' as const, message: `checks could not run: ${String(err)}` },
        ],
        jobsByStatus,
      }));
      violations = evaluation.violations;
      jobsByStatus = evaluation.jobsByStatus;
      const final = ['succeeded', 'failed', 'cancelled'].reduce(
        (n, status) => n + (jobsByStatus[status] ?? 0),
        0,
      );
      if (final > finished) {
        if (finished >= 0) deadline = Math.min(cap, Date.now() + options.quiesceMs);
        finished = final;
      }
      if (violations.length === 0 || Date.now() > deadline) break;
      await sleep(2_000);
    }
    quiesceSeconds = (Date.now() - quietFrom) / 1000;
  } finally {
    await workload.stop();
    await Promise.all([...feeds.values()].map((f) => f.stop()));
    await kubeJobs.stop();
    await quota.stop();
    await receiver.stop();
    await stack.stop();
  }

  const faultCounts: Record<string, number> = {};
  for (const f of faults.log) faultCounts[f.kind] = (faultCounts[f.kind] ?? 0) + 1;
  const violated = new Set(violations.map((v) => v.check));
  return {
    seed: options.seed,
    cycles: options.cycles,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    faults: faultCounts,
    faultLog: faults.log,
    jobsAccepted: workload.accepted.size,
    jobsByStatus,
    requests: workload.stats,
    actions: workload.actions.length,
    webhookRequests: receiver.deliveries.length,
    webhookEvents: new Set(receiver.deliveries.map((d) => d.eventId)).size,
    feedEvents: [...feeds.values()].reduce((n, f) => n + f.events.length, 0),
    feedReconnects: [...feeds.values()].reduce((n, f) => n + f.reconnects, 0),
    feedEndings: [...feeds.values()].reduce<Record<string, number>>((all, f) => {
      for (const [why, n] of f.endings) all[why] = (all[why] ?? 0) + n;
      return all;
    }, {}),
    kubeJobs: kubeJobs.uids.size,
    kubeStandIns: kubeJobs.suspendedOnly.size,
    watchDrops: kubeJobs.watchDrops,
    quotaSamples: quota.samples,
    quiesceSeconds: Math.round(quiesceSeconds),
    checks: Object.fromEntries(
      CHECKS.map((c) => [c, violated.has(c) ? 'violated' : 'held']),
    ) as Record<CheckName, 'held' | 'violated'>,
    violations,
    refusals: workload.rejections.slice(0, 10),
    logFile: stack.logFile,
  };
}

async function ready(gateway: string): Promise<boolean> {
  try {
    return (await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await sleep(250);
}

/** The report as lines a person reads. */
export function formatReport(report: ChaosReport): string {
  const lines = [
    `chaos report: seed ${report.seed}, ${report.cycles} cycles, ${report.durationSeconds} s`,
    `  faults: ${
      Object.entries(report.faults)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
    `  jobs accepted: ${report.jobsAccepted} (${Object.entries(report.jobsByStatus)
      .map(([k, n]) => `${k} ${n}`)
      .join(
        ', ',
      )}); requests ${report.requests.submitted} jobs submitted (${report.requests.batches} batches, ${report.requests.uploads} uploads, ${report.requests.gpuJobs} GPU), ${report.requests.rejected} refused, ${report.requests.unknown} without an answer; ${report.actions} failover actions`,
    `  closed loop: at most ${OUTSTANDING_PER_SLOT} unfinished jobs per concurrent-job slot; peak unfinished ${
      Object.entries(report.requests.peakOutstanding)
        .map(([tenant, n]) => `${tenant} ${n}`)
        .join(', ') || 'none sampled'
    }; the lanes waited ${report.requests.heldBack} ticks for room`,
    `  webhooks: ${report.webhookRequests} requests for ${report.webhookEvents} events; feed: ${report.feedEvents} events, ${report.feedReconnects} reconnects (${
      Object.entries(report.feedEndings)
        .map(([why, n]) => `${why} ×${n}`)
        .join(', ') || 'none'
    }); ${report.kubeJobs} Kubernetes Jobs watched (and ${report.kubeStandIns} offload stand-ins), ${report.watchDrops} watch drops; ${report.quotaSamples} quota samples; settled in ${report.quiesceSeconds} s`,
    '  checks:',
    ...CHECKS.map((c) => `    ${report.checks[c] === 'held' ? 'held    ' : 'VIOLATED'} ${c}`),
  ];
  if (report.violations.length) {
    lines.push(`  ${report.violations.length} violation(s):`);
    for (const v of report.violations) lines.push(`    [${v.check}] ${v.message}`);
  } else lines.push('  0 violations');
  if (report.refusals.length) {
    lines.push('  first refusals (not violations: a refused request accepted nothing):');
    for (const r of report.refusals) lines.push(`    ${r}`);
  }
  lines.push(`  stack log: ${report.logFile}`);
  return lines.join('\n');
}
