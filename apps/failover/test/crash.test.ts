import { type ChildProcess, spawn } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { builtApp } from '../../../test/support/processes.js';
import type { Harness } from '../../../test/support/harness.js';
import { CORDON_AND_REPAIR } from './compat-bodies.js';
import { ADMIN_TOKEN, call, failoverSettings, startWorld, unschedulable } from './world.js';

describe('failover worker crash safety', () => {
  let h: Harness;
  const children: ChildProcess[] = [];

  /** The failover worker as its own process, the way it is deployed. */
  function startWorker(): {
    child: ChildProcess;
    exited: Promise<NodeJS.Signals | null>;
    stderr: () => string;
  } {
    const child = spawn(process.execPath, [builtApp('failover')], {
      env: { ...process.env, ...failoverSettings(h), PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    return { child, exited, stderr: () => stderr };
  }

  beforeAll(async () => {
    h = (await startWorld('failover_crash')).h;
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await h?.close();
  });

  it('kill -9 between steps: a restarted worker finishes the action once, repeating no step', async () => {
    // Hold the second step: the compute API refuses deletions until the test lets it go.
    h.sim.compute.refuseDeletes = true;
    const first = startWorker();
    const submitted = await call(
      h.url,
      'POST',
      '/actions?wait=0',
      { ...CORDON_AND_REPAIR, id: 'crash-1' },
      ADMIN_TOKEN,
    );
    expect([submitted.status, submitted.body]).toEqual([202, { id: 'crash-1' }]);

    const steps = () =>
      h.prisma.actionStep.findMany({ where: { actionId: 'crash-1' }, orderBy: { index: 'asc' } });
    const held = await eventually(
      'the cordon to be recorded and the instance deletion to be retrying',
      async () => {
        const rows = await steps();
        return rows[0]?.state === 'succeeded' &&
          rows[1]?.state === 'running' &&
          rows[1]?.error?.includes('503')
          ? rows
          : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; worker stderr: ${first.stderr()}`);
    });
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(await unschedulable(h, 'my-node-pool-1')).toBe('true');
    expect(h.sim.compute.deletions).toEqual([]);
    expect((await h.prisma.action.findUniqueOrThrow({ where: { id: 'crash-1' } })).state).toBe(
      'running',
    );

    h.sim.compute.refuseDeletes = false;
    const second = startWorker();
    const done = await eventually(
      'the action to finish under the new worker',
      async () => {
        const action = await h.prisma.action.findUniqueOrThrow({ where: { id: 'crash-1' } });
        return action.state === 'succeeded' || action.state === 'failed' ? action : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; worker stderr: ${second.stderr()}`);
    });
    expect(done.state).toBe('succeeded');
    const after = await steps();
    // The cordon step kept its one run; the deletion step kept its first start and ran to the end.
    expect(after[0]).toEqual(held[0]);
    expect(after[1]).toMatchObject({
      state: 'succeeded',
      startedAt: held[1]!.startedAt,
      error: null,
    });
    expect(h.sim.compute.deletions.map((d) => d.instance)).toEqual(['my-node-pool-0']);
    const events = await h.prisma.event.findMany({ where: { subject: 'actions/crash-1' } });
    expect(events.map((e) => e.type).sort()).toEqual([
      subjects.action.requested,
      subjects.action.started,
      subjects.action.succeeded,
    ]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBeNull();
  });
});
