/**
 * The machine's floor, for benchmarks to compare against: what one Postgres and one JetStream
 * do here with nothing of roam in between. Shared by `bench:jobs` and `bench:stack`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

/** Single-row INSERT commits/s from 8 clients over `seconds`. */
export async function postgresFloor(url: string, seconds = 3): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())',
  );
  let commits = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < until) {
        await pool.query('INSERT INTO bench_floor DEFAULT VALUES');
        commits += 1;
      }
    }),
  );
  await pool.query('DROP TABLE bench_floor');
  await pool.end();
  return commits / seconds;
}

/** Acked JetStream publishes/s with up to 256 in flight, on a throwaway stream under `prefix`. */
export async function jetstreamFloor(
  natsUrl: string,
  prefix: string,
  seconds = 3,
): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const stream = `BENCH_FLOOR_${prefix.toUpperCase().replaceAll(/[^A-Z0-9_]/g, '_')}`;
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.floor.>`] });
  const js = jetstream(nc);
  const payload = new TextEncoder().encode(
    JSON.stringify({ id: 'x'.repeat(36), data: { jobId: 'y'.repeat(36) } }),
  );
  let published = 0;
  const until = Date.now() + seconds * 1000;
  let inFlight: Promise<unknown>[] = [];
  while (Date.now() < until) {
    inFlight.push(js.publish(`${prefix}.floor.x`, payload, { msgID: `${published}` }));
    published += 1;
    if (inFlight.length >= 256) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  await jsm.streams.delete(stream);
  await nc.close();
  return published / seconds;
}

/**
 * The JetStream floor on a throwaway nats-server of the same binary: the stack's own server
 * admits only roam's per-app users, none of which may create a stream of its own.
 */
export async function jetstreamFloorOwnServer(port: number, seconds = 3): Promise<number> {
  const store = await mkdtemp(join(tmpdir(), 'roam-bench-nats-'));
  const server = spawn(
    process.env.ROAM_STACK_NATS_SERVER ?? 'nats-server',
    ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)],
    { stdio: 'ignore' },
  );
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await jetstreamFloor(`nats://127.0.0.1:${port}`, 'benchfloor', seconds);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
    await rm(store, { recursive: true, force: true });
  }
}
