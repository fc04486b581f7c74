import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { portFree } from '../src/probes.js';

/**
 * End to end: the real launcher (`node apps/stack/dist/main.js`, built by `pnpm test`) against
 * the machine's Postgres and NATS, on its own ports, database and NATS subject prefix.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const database = `roam_stack_e2e_${randomBytes(4).toString('hex')}`;
const adminUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';
let stateDir: string | undefined;
let launcher: ChildProcess | undefined;
let seen: string[] = [];

afterAll(async () => {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
    // The test did not get to its clean stop (it failed or timed out): show why, then let the
    // launcher stop its children (they run in their own process groups and would outlive a
    // SIGKILLed launcher).
    console.error(`launcher output (last 80 lines):\n${seen.slice(-80).join('\n')}`);
    const running = launcher;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`drop database if exists ${database} with (force)`);
  await client.end();
});

/**
 * Eleven consecutive free ports: the gateway and six workers, the simulator (+7) with its
 * RunPod (+8) and Compute (+9) APIs, and the S3 server (+10). Below the kernel's ephemeral
 * range (32768+), so sockets other suites open meanwhile cannot take them.
 */
async function freePortRange(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await Promise.all(Array.from({ length: 11 }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

/** Every stdout/stderr line of the launcher, and a way to wait for one. */
function lines(child: ChildProcess) {
  const seen: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      seen.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
  }
  return {
    seen,
    /** The first line, past or future, that matches. */
    waitFor(match: (line: string) => boolean, from = 0): Promise<string> {
      const earlier = seen.slice(from).find(match);
      if (earlier !== undefined) return Promise.resolve(earlier);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe('pnpm dev (the launcher)', () => {
  it('starts the stack, restarts a worker killed with -9, and exits cleanly on SIGINT', async () => {
    await access(join(root, 'apps', 'gateway', 'dist', 'main.js'));
    stateDir = await mkdtemp(join(tmpdir(), 'roam-stack-e2e-'));
    const port = await freePortRange();
    const simPort = port + 7;

    launcher = spawn(process.execPath, [join(root, 'apps', 'stack', 'dist', 'main.js')], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        ROAM_STACK_SIM_PORT: String(simPort),
        ROAM_STACK_S3_PORT: String(port + 10),
        ROAM_STACK_STATE_DIR: stateDir,
        DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
        NATS_URL: 'nats://127.0.0.1:4222',
        NATS_SUBJECT_PREFIX: database.replaceAll('_', '-'),
        ROAM_STACK_LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      launcher!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const output = lines(launcher);
    seen = output.seen;
    const failed = exited.then((e) => {
      throw new Error(
        `launcher exited early (${JSON.stringify(e)}):\n${output.seen.slice(-40).join('\n')}`,
      );
    });

    await Promise.race([
      output.waitFor((l) => l.startsWith('[stack]') && l.includes('roam is ready')),
      failed,
    ]);
    // The summary follows the ready line; its last line closes it.
    await Promise.race([output.waitFor((l) => l.includes('Ctrl-C stops everything')), failed]);
    expect(output.seen.some((l) => l.includes('from DATABASE_URL'))).toBe(true);
    expect(output.seen.some((l) => l.includes('simulator at'))).toBe(true);
    // Object storage runs as its own supervised child, its lines prefixed like the apps'.
    expect(output.seen.some((l) => l.startsWith('[s3]') && l.includes('listening on'))).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port + 10}/`)).status).toBeLessThan(500);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    // The local stack keeps SUMO-K8's flow: registration needs no key.
    const registered = await fetch(`http://127.0.0.1:${port}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: 'stack-a' }),
    });
    expect(registered.status).toBe(201);

    // The scheduler's own pino lines carry its pid.
    const schedulerLine = await output.waitFor(
      (l) => l.startsWith('[scheduler]') && l.includes('"pid":'),
    );
    const pid = Number(/"pid":(\d+)/.exec(schedulerLine)?.[1]);
    expect(pid).toBeGreaterThan(0);

    const mark = output.seen.length;
    process.kill(pid, 'SIGKILL');
    const crash = await Promise.race([
      output.waitFor(
        (l) => l.startsWith('[stack]') && l.includes('scheduler was killed by SIGKILL'),
        mark,
      ),
      failed,
    ]);
    expect(crash).toContain('restarting in');
    const restarted = await Promise.race([
      output.waitFor(
        (l) => l.startsWith('[stack]') && /scheduler restarted \(pid \d+\)/.test(l),
        mark,
      ),
      failed,
    ]);
    expect(restarted).not.toContain(`pid ${pid})`);

    launcher.kill('SIGINT');
    const exit = await exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(output.seen.some((l) => l.startsWith('[stack]') && l.trim().endsWith('stopped'))).toBe(
      true,
    );
    expect(output.seen.some((l) => l.includes('did not stop within'))).toBe(false);
  }, 180_000);
});
