import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { BackoffPolicy } from '../src/backoff.js';
import { Supervisor, type SupervisorEvent } from '../src/supervisor.js';

const policy: BackoffPolicy = { initialMs: 10, maxMs: 1000, factor: 2, resetAfterMs: 60_000 };

let dir: string;
const supervisors: Supervisor[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-supervisor-'));
  // Prints once it is fully set up, so the test can act on a process that is really running.
  await writeFile(
    join(dir, 'sleeper.mjs'),
    `console.log('ready ' + process.pid); setInterval(() => {}, 1000);`,
  );
  await writeFile(
    join(dir, 'stubborn.mjs'),
    `process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
     console.log('ready ' + process.pid); setInterval(() => {}, 1000);`,
  );
  await writeFile(join(dir, 'crasher.mjs'), `console.error('boom'); process.exit(3);`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
});

function supervisor(graceMs = 10_000): { sup: Supervisor; logs: string[] } {
  const logs: string[] = [];
  const sup = new Supervisor({ policy, graceMs, log: (message) => logs.push(message) });
  supervisors.push(sup);
  return { sup, logs };
}

function node(name: string, script: string) {
  return { name, command: process.execPath, args: [join(dir, script)] };
}

/** Resolves with the first event matching `predicate`, however long it takes. */
function next<T extends SupervisorEvent['type']>(
  sup: Supervisor,
  type: T,
  predicate: (event: Extract<SupervisorEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<SupervisorEvent, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (event: SupervisorEvent) => {
      if (event.type === type && predicate(event as Extract<SupervisorEvent, { type: T }>)) {
        sup.off('event', listener);
        resolve(event as Extract<SupervisorEvent, { type: T }>);
      }
    };
    sup.on('event', listener);
  });
}

const readyLine = (sup: Supervisor, name: string) =>
  next(sup, 'line', (e) => e.name === name && e.line.startsWith('ready'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Supervisor', () => {
  it('restarts a child killed with SIGKILL and logs the restart', async () => {
    const { sup, logs } = supervisor();
    const firstReady = readyLine(sup, 'sleeper');
    sup.start(node('sleeper', 'sleeper.mjs'));
    await firstReady;
    const firstPid = sup.pid('sleeper');
    expect(firstPid).toBeDefined();

    const exited = next(sup, 'exit', (e) => e.name === 'sleeper');
    const restarted = next(sup, 'spawn', (e) => e.name === 'sleeper' && e.restarts === 1);
    process.kill(firstPid!, 'SIGKILL');

    const exit = await exited;
    expect(exit).toMatchObject({ signal: 'SIGKILL', expected: false });
    const spawn = await restarted;
    expect(spawn.pid).not.toBe(firstPid);
    expect(
      logs.some((l) => l.includes('sleeper was killed by SIGKILL') && l.includes('restarting in')),
    ).toBe(true);
    await readyLine(sup, 'sleeper');
  });

  it('backs off exponentially while a child crash-loops', async () => {
    const { sup, logs } = supervisor();
    const delays: number[] = [];
    const crashes: number[] = [];
    const fourth = new Promise<void>((resolve) => {
      sup.on('event', (event) => {
        if (event.type !== 'restart-scheduled') return;
        delays.push(event.delayMs);
        crashes.push(event.crashes);
        if (delays.length === 4) resolve();
      });
    });
    sup.start(node('crasher', 'crasher.mjs'));
    await fourth;
    await sup.stop();

    expect(crashes.slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(
      logs.filter((l) => l.includes('crasher exited with code 3')).length,
    ).toBeGreaterThanOrEqual(4);
  });

  it('stop() sends SIGTERM, then SIGKILL to a child that ignores it, and leaves nothing running', async () => {
    // The grace outlasts a busy machine's delays: only the child that ignores SIGTERM is killed.
    const { sup, logs } = supervisor(2000);
    const ready = Promise.all([readyLine(sup, 'polite'), readyLine(sup, 'stubborn')]);
    sup.start(node('polite', 'sleeper.mjs'));
    sup.start(node('stubborn', 'stubborn.mjs'));
    await ready;
    const pids = [sup.pid('polite')!, sup.pid('stubborn')!];

    const exits: SupervisorEvent[] = [];
    const killed: SupervisorEvent[] = [];
    sup.on('event', (e) => {
      if (e.type === 'exit') exits.push(e);
      if (e.type === 'killed') killed.push(e);
    });
    const ignored = next(
      sup,
      'line',
      (e) => e.name === 'stubborn' && e.line === 'ignoring SIGTERM',
    );
    await sup.stop();
    await ignored;

    expect(exits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'polite', signal: 'SIGTERM', expected: true }),
        expect.objectContaining({ name: 'stubborn', signal: 'SIGKILL', expected: true }),
      ]),
    );
    expect(killed).toEqual([expect.objectContaining({ name: 'stubborn' })]);
    expect(logs.some((l) => l.includes('stubborn did not stop') && l.includes('SIGKILL'))).toBe(
      true,
    );
    expect(pids.filter(alive)).toEqual([]);
    expect(sup.names()).toEqual([]);
  });

  it('does not restart a child after stop(), even one waiting out its backoff', async () => {
    const { sup } = supervisor();
    const scheduled = next(sup, 'restart-scheduled', (e) => e.name === 'crasher');
    sup.start({ ...node('crasher', 'crasher.mjs') });
    await scheduled;
    let spawnedAfterStop = false;
    await sup.stop();
    sup.on('event', (e) => {
      if (e.type === 'spawn') spawnedAfterStop = true;
    });
    // stop() cleared the pending restart timer along with the entry.
    expect(sup.names()).toEqual([]);
    expect(spawnedAfterStop).toBe(false);
  });

  it('treats a command that cannot be spawned as a crash', async () => {
    const { sup, logs } = supervisor();
    const scheduled = next(sup, 'restart-scheduled', (e) => e.name === 'missing');
    sup.start({ name: 'missing', command: join(dir, 'no-such-binary'), args: [] });
    await scheduled;
    expect(logs.some((l) => l.includes('missing could not be started'))).toBe(true);
  });
});
