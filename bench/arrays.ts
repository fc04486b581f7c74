/**
 * `pnpm bench:arrays`: one large job array through the stack on this machine.
 *
 *  - submit: `POST /api/v1/arrays` of BENCH_ARRAY_SIZE elements (default 100,000), one request,
 *    wall time of the round trip, beside the CPU time the gateway and this database's Postgres
 *    backends spent meanwhile (the machine is shared: wall time alone says little) and the load
 *    average;
 *  - element rows: time until the scheduler has created every element row (the submit creates
 *    the first ones), and the Postgres CPU time it took;
 *  - admission: elements admitted per second over BENCH_ADMIT_SECONDS (default 20) while the
 *    scheduler works through the array (zero-duration elements, a cluster with room);
 *  - summary: `GET /api/v1/arrays/{id}` latency p50/p99 over 200 reads while admission runs;
 *  - cancel: `DELETE /api/v1/arrays/{id}` of what is left: time to the answer (a 202 for a large
 *    array) and until the summary says done (the reconciler cancels the rest).
 *
 * The gateway, scheduler and reconciler run as their own processes against the local Postgres
 * and NATS and an in-process Kubernetes simulator. Prints figures; asserts nothing.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';

import { openBenchStack } from './bench-stack.js';
import { fmt, percentile, sleep } from './figures.js';

const SIZE = Number(process.env.BENCH_ARRAY_SIZE ?? 100_000);
const ADMIT_SECONDS = Number(process.env.BENCH_ADMIT_SECONDS ?? 20);

/** CPU time (user + system) of each process of `pids`, in ms; a process gone is left out. */
async function cpuMs(pids: readonly number[]): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    times.set(pid, (Number(fields[11]) + Number(fields[12])) * 10); // USER_HZ is 100 on Linux
  }
  return times;
}

/** CPU ms spent between two readings; a process first seen in `after` counts whole. */
const cpuSpent = (before: Map<number, number>, after: Map<number, number>): number =>
  [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

async function main(): Promise<void> {
  const stack = await openBenchStack('bench_arrays');
  const { db } = stack;
  try {
    console.log('starting gateway, scheduler and reconciler…');
    const { url, headers, gateway } = await stack.start(
      { gateway: 18100, scheduler: 18101, reconciler: 18102 },
      {
        ARRAY_MAX_SIZE: String(Math.max(SIZE, 1)),
        MAX_PENDING_JOBS_PER_TENANT: String(Math.max(SIZE, 1)),
      },
    );

    console.log(`submit: one array of ${SIZE} elements…`);
    // This database's backends (each connection is a process), and the gateway's process.
    const backends = async () =>
      (
        await db.prisma.$queryRaw<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity WHERE datname = current_database()`
      ).map((row) => row.pid);
    const gatewayPid = gateway.child.pid!;
    const load = loadavg()[0]!;
    const [pg0, gw0] = [await cpuMs(await backends()), await cpuMs([gatewayPid])];
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
    const [pg1, gw1] = [await cpuMs(await backends()), await cpuMs([gatewayPid])];
    const array = (await response.json()) as { id: string };
    if (response.status !== 201)
      throw new Error(`submit: ${response.status} ${JSON.stringify(array)}`);

    // The scheduler creates the element rows the submit left out, a chunk per transaction.
    const m0 = performance.now();
    const pgM0 = await cpuMs(await backends());
    for (;;) {
      const row = await db.prisma.jobArray.findUniqueOrThrow({ where: { id: array.id } });
      if (row.materialized >= row.size) break;
      await sleep(100);
    }
    const materializeMs = performance.now() - m0;
    const pgM1 = await cpuMs(await backends());
    // Printed as they come too: the cancel at the end can take minutes on a loaded machine.
    const figures = [
      `| submit of ${SIZE} elements (one request) | ${fmt(submitMs, 0)} ms wall; CPU: gateway ${fmt(cpuSpent(gw0, gw1), 0)} ms, Postgres ${fmt(cpuSpent(pg0, pg1), 0)} ms; load average ${fmt(load, 1)} |`,
      `| every element row created (after the submit) | ${fmt(materializeMs, 0)} ms; Postgres CPU ${fmt(cpuSpent(pgM0, pgM1), 0)} ms |`,
    ];
    for (const line of figures) console.log(line);

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
    for (const line of figures) console.log(line);
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
    await stack.close();
  }
}

await main();
