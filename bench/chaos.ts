// `pnpm chaos [--seed N] [--cycles N] [--base-port P] [--state-dir D] [--pause-ms MS]
// [--cycle-ms MS] [--quiesce-ms MS] [--json FILE]`: runs roam's stack isolated, keeps traffic
// flowing while a seeded loop kills and pauses its parts, then checks that nothing accepted was
// lost, duplicated or over-admitted (docs/reliability.md). Exits 1 on any violation.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { DEFAULT_OPTIONS, formatReport, runChaos } from './chaos/engine.js';

const { values } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string' },
    cycles: { type: 'string' },
    'base-port': { type: 'string' },
    'state-dir': { type: 'string' },
    'pause-ms': { type: 'string' },
    'cycle-ms': { type: 'string' },
    'quiesce-ms': { type: 'string' },
    json: { type: 'string' },
  },
});
const number = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer (got ${value})\n`);
    process.exit(64);
  }
  return n;
};

const report = await runChaos({
  seed: number(values.seed, Date.now() % 1_000_000, 'seed'),
  cycles: number(values.cycles, DEFAULT_OPTIONS.cycles, 'cycles'),
  basePort: number(values['base-port'], DEFAULT_OPTIONS.basePort, 'base-port'),
  stateDir: values['state-dir'] ?? DEFAULT_OPTIONS.stateDir,
  pauseMs: number(values['pause-ms'], DEFAULT_OPTIONS.pauseMs, 'pause-ms'),
  cycleMs: number(values['cycle-ms'], DEFAULT_OPTIONS.cycleMs, 'cycle-ms'),
  quiesceMs: number(values['quiesce-ms'], DEFAULT_OPTIONS.quiesceMs, 'quiesce-ms'),
  tickMs: DEFAULT_OPTIONS.tickMs,
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`${formatReport(report)}\n`);
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
process.exit(report.violations.length ? 1 : 0);
