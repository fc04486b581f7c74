import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { busApps, JetStreamConnection, JetStreamPublisher } from '@roam/messaging';
import { createEnvelope, subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { natsServerSpec } from '../src/nats.js';

// A port of this suite's own.
const PORT = 21412;

describe("the stack's own nats-server", () => {
  let stateDir: string;
  let stop: () => Promise<void>;
  let result: Awaited<ReturnType<typeof natsServerSpec>>;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'roam-stack-nats-'));
    result = await natsServerSpec({ executable: 'nats-server', port: PORT, stateDir });
    const { spec } = result;
    const child = spawn(spec.command, spec.args, { env: spec.env, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    stop = async () => {
      child.kill('SIGTERM');
      await exited;
    };
  });

  afterAll(async () => {
    await stop?.();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  const connectAs = (app: (typeof busApps)[number]) =>
    new JetStreamConnection({
      servers: `nats://127.0.0.1:${PORT}`,
      name: app,
      credentials: {
        user: result.logins[app].NATS_USER,
        password: result.logins[app].NATS_PASSWORD,
      },
    });

  it('lets every app in with the login it is given, and nobody without one', async () => {
    const first = connectAs('gateway');
    await eventually('nats-server to accept the gateway', async () => {
      await first.connect();
      return true;
    });
    await first.ensureStreams();
    await new JetStreamPublisher(first).publish(
      createEnvelope(subjects.job.submit, { jobId: crypto.randomUUID() }, { source: 'test' }),
    );
    await first.drain();
    for (const app of busApps) {
      const connection = connectAs(app);
      await connection.connect();
      await connection.drain();
    }
    const anonymous = new JetStreamConnection({ servers: `nats://127.0.0.1:${PORT}`, name: 'x' });
    await expect(anonymous.connect()).rejects.toThrow(/authorization/i);
  });

  it('keeps the passwords in the state directory, private, across restarts', async () => {
    const file = join(stateDir, 'nats-passwords.json');
    expect((await stat(file)).mode & 0o077).toBe(0);
    const again = await natsServerSpec({ executable: 'nats-server', port: PORT, stateDir });
    expect(again.logins).toEqual(result.logins);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      scheduler: result.logins.scheduler.NATS_PASSWORD,
    });
  });
});
