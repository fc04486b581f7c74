import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { prepareEmbeddedPostgres } from '../src/embedded-postgres.js';
import { Supervisor, type SupervisorEvent } from '../src/supervisor.js';

let dir: string;
const logs: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-embedded-pg-'));
  // mkdtemp makes it 700; as root the server runs as `postgres`, which must reach the data dir.
  await chmod(dir, 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('initialises in a temp dir, serves select 1 on a free port with the settings given, and stops cleanly', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'data');
    const embedded = await prepareEmbeddedPostgres({
      dataDir,
      port,
      log: (m) => logs.push(m),
      settings: ['work_mem=7MB'],
    });
    expect(embedded.dataDir).toBe(dataDir);
    expect((await stat(join(dataDir, 'PG_VERSION'))).isFile()).toBe(true);

    const supervisor = new Supervisor({
      policy: { initialMs: 100, maxMs: 1000, factor: 2, resetAfterMs: 10_000 },
      graceMs: 30_000,
      log: (m) => logs.push(m),
    });
    const events: SupervisorEvent[] = [];
    const ready = new Promise<void>((resolve, reject) => {
      supervisor.on('event', (event) => {
        events.push(event);
        if (
          event.type === 'line' &&
          event.line.includes('database system is ready to accept connections')
        )
          resolve();
        if (event.type === 'exit')
          reject(new Error(`postgres exited early: ${JSON.stringify(event)}\n${logs.join('\n')}`));
      });
    });
    supervisor.start(embedded.spec);
    try {
      await ready;
      const client = new pg.Client({ connectionString: embedded.adminUrl });
      await client.connect();
      try {
        const result = await client.query<{ one: number }>('select 1 as one');
        expect(result.rows).toEqual([{ one: 1 }]);
        const setting = await client.query<{ work_mem: string }>('SHOW work_mem');
        expect(setting.rows[0]?.work_mem).toBe('7MB');
      } finally {
        await client.end();
      }
    } finally {
      await supervisor.stop();
    }

    const exit = events.find((e) => e.type === 'exit');
    // Fast shutdown on SIGINT ends with exit code 0; nothing was SIGKILLed or restarted.
    expect(exit).toMatchObject({ type: 'exit', code: 0, expected: true });
    expect(events.some((e) => e.type === 'killed' || e.type === 'restart-scheduled')).toBe(false);
    expect(
      events.some((e) => e.type === 'line' && e.line.includes('database system is shut down')),
    ).toBe(true);
  }, 120_000);
});
