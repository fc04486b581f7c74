import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

import { CHECKS } from '../bench/chaos/checks.js';
import { formatReport, runChaos } from '../bench/chaos/engine.js';

/**
 * A short seeded chaos run (the engine behind `pnpm chaos`, docs/reliability.md): an isolated
 * stack, jobs, uploads, webhooks, offloads and failover actions flowing while the seed's fault
 * schedule kills the gateway mid-request, restarts Postgres, kills the notifier mid-delivery and
 * restarts NATS. Every invariant must hold once the stack is quiet; the report names each
 * violation with its ids.
 */
describe('chaos: a short seeded run', () => {
  let stateDir: string | undefined;

  afterAll(async () => {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('loses, duplicates, reorders and over-admits nothing while its parts are killed', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'roam-chaos-'));
    const report = await runChaos({
      seed: 42,
      cycles: 4,
      basePort: 21650,
      stateDir: join(stateDir, 'stack'),
      cycleMs: 1_000,
      pauseMs: 4_000,
      quiesceMs: 60_000,
      tickMs: 300,
      log: () => undefined,
    });
    // The seed fixes the faults; the run is worth little if they stop covering these.
    expect(report.faultLog.map((fault) => fault.kind)).toEqual([
      'kill-gateway-mid-request',
      'restart-postgres',
      'kill-notifier-mid-delivery',
      'restart-nats',
    ]);
    expect(report.jobsAccepted).toBeGreaterThan(0);
    // The whole report is the failure message: every violation with its ids.
    expect(report.violations.length === 0 ? 'no violations' : formatReport(report)).toBe(
      'no violations',
    );
    expect(report.checks).toEqual(Object.fromEntries(CHECKS.map((check) => [check, 'held'])));
  }, 240_000);
});
