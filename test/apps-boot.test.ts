import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningSimulator, startSimulator } from '@roam/sim';
import {
  createTestDatabase,
  deleteTestStreams,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';

import { builtApp } from './support/processes.js';

/**
 * Every app is its own process: each boots from its built `main.js`,
 * becomes ready against real Postgres and NATS, and exits cleanly on SIGTERM. A bad variable
 * stops it at boot naming the variable.
 */
const apps = [
  'gateway',
  'scheduler',
  'reconciler',
  'storage',
  'offload',
  'failover',
  'notifier',
] as const;

interface Started {
  child: ChildProcess;
  url: string;
}

function start(app: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [builtApp(app)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === `${app} listening` && entry.url) resolve({ child, url: entry.url });
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`${app} exited with ${code} before listening: ${stderr}`)),
    );
  });
}

describe('every app as its own process', () => {
  const prefix = testSubjectPrefix();
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sim: RunningSimulator;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase('apps_boot');
    dir = await mkdtemp(join(tmpdir(), 'roam-boot-'));
    sim = await startSimulator({ port: 0, kubeconfigPath: join(dir, 'kubeconfig'), log: () => {} });
    env = {
      KUBECONFIG: sim.kubeconfigPath,
      RUNPOD_API_URL: `${sim.runpodUrl}/v1`,
      RUNPOD_API_KEY: 'simulated',
      COMPUTE_API_URL: sim.computeUrl,
      DATABASE_URL: db.url,
      NATS_URL: testNatsUrl(),
      NATS_SUBJECT_PREFIX: prefix,
      PORT: '0',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
    await db?.drop();
    await deleteTestStreams(prefix);
  });

  it.each(apps)('%s boots, is ready, and exits cleanly on SIGTERM', async (app) => {
    const { child, url } = await start(app, env);
    try {
      const live = await fetch(`${url}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${url}/health/ready`);
      const report = (await ready.json()) as {
        status: string;
        checks: Record<string, boolean>;
        consumers: { consumer: string; up: boolean }[];
        loops: { name: string }[];
      };
      expect(report).toMatchObject({
        status: 'ready',
        checks: { postgres: true, nats: true, consumers: true },
      });
      for (const consumer of report.consumers) {
        expect(consumer.consumer.startsWith(`${app}_`)).toBe(true);
        expect(consumer.up).toBe(true);
      }
      expect(report.loops.map((loop) => loop.name)).toContain('outbox relay pass');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, string | null];
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    }
  });

  it('stops at boot with exit code 78 naming every bad variable', async () => {
    const child = spawn(process.execPath, [builtApp('gateway')], {
      env: {
        ...process.env,
        ...env,
        PORT: 'eighty',
        DATABASE_URL: 'mysql://nope',
        NATS_MAX_DELIVER: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(78);
    expect(stderr).toContain('PORT');
    expect(stderr).toContain('DATABASE_URL');
    expect(stderr).toContain('NATS_MAX_DELIVER');
  });
});
