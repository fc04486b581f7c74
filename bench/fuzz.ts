/**
 * `pnpm bench:fuzz`: the route fuzzer of `apps/gateway/test/fuzz.test.ts` at volume
 * (FUZZ_RUNS, default 100,000; FUZZ_SEED fixed unless given). The gateway, scheduler and
 * reconciler run in-process over the local Postgres and NATS and the simulator, as in the
 * test. Prints the request count, rate, status classes per principal and routes reached; stops
 * at the first violation with the request that caused it and the seed to replay it.
 */
import fc from 'fast-check';

import {
  type FuzzSample,
  fuzzSeed,
  prepareWorld,
  routeProperty,
  startFuzzHarness,
} from '../test/support/route-fuzzer.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);

const h = await startFuzzHarness('fuzz-bench');
const byPrincipal = new Map<string, Record<string, number>>();
const reached = new Set<string>();
let count = 0;
const started = performance.now();
const record = (sample: FuzzSample) => {
  count += 1;
  reached.add(`${sample.route.method} ${sample.route.path}`);
  const row = byPrincipal.get(sample.principal) ?? {};
  const cls = `${Math.floor(sample.status / 100)}xx`;
  row[cls] = (row[cls] ?? 0) + 1;
  byPrincipal.set(sample.principal, row);
  if (count % 10_000 === 0) process.stdout.write(`  ${count} requests…\n`);
};
let failure: unknown;
try {
  const world = await prepareWorld(h);
  await fc.assert(routeProperty(world, record), {
    numRuns: RUNS,
    seed: fuzzSeed(),
    endOnFailure: true,
  });
  process.stdout.write(`routes documented: ${world.routes.length}, reached: ${reached.size}\n`);
} catch (err) {
  failure = err;
} finally {
  await h.close();
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `requests: ${count} in ${seconds.toFixed(0)} s (${(count / seconds).toFixed(0)}/s)\n`,
);
process.stdout.write('principal      2xx     3xx     4xx     5xx\n');
for (const [principal, row] of byPrincipal) {
  const cell = (k: string) => String(row[k] ?? 0).padStart(7);
  process.stdout.write(
    `${principal.padEnd(12)}${cell('2xx')} ${cell('3xx')} ${cell('4xx')} ${cell('5xx')}\n`,
  );
}
if (failure) {
  const cause =
    failure instanceof Error && failure.cause instanceof Error ? failure.cause : failure;
  process.stdout.write(
    `VIOLATION: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}\n`,
  );
  process.stdout.write(`${failure instanceof Error ? failure.message : ''}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(
    'violations: 0 (no 5xx, no state change on a rejection, no cross-tenant read)\n',
  );
}
