import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

import { formatReport, runChaos } from '../bench/chaos/engine.js';

/**
 * A short seeded chaos run (the engine behind `pnpm chaos`, docs/reliability.md): an isolated
 * stack, jobs, uploads, webhooks, offloads and failover actions flowing while a fixed schedule
 * of faults kills apps, NATS and Postgres, pauses a process and drops the simulator's watches.
 * Every invariant must hold once the stack is quiet; the report names each violation.
 */
describe('chaos: a short seeded run', () => {
  let stateDir: string | undefined;

  afterAll(async () => {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('loses, duplicates and over-admits nothing while its parts are killed', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'roam-chaos-'));
    const lines: string[] = [];
    const report = await runChaos({
      seed: 20261204,
      cycles: 4,
      basePort: 21650,
      stateDir: join(stateDir, 'stack'),
      cycleMs: 2_000,
      pauseMs: 4_000,
      quiesceMs: 45_000,
      tickMs: 300,
      log: (line) => lines.push(line),
    });
    expect(report.jobsAccepted).toBeGreaterThan(0);
    expect(report.faultLog).toHaveLength(4);
    // The whole report is the failure message: every violation with its ids.
    expect(report.violations.length === 0 ? 'no violations' : formatReport(report)).toBe(
      'no violations',
    );
  }, 300_000);
});
