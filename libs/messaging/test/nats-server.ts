import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect } from '@nats-io/transport-node';
import { eventually } from '@roam/testing';

import { busApps, natsPasswordVariable, renderNatsConfig, type BusApp } from '../src/accounts.js';

/** A nats-server of a suite's own, started with roam's generated authorization. */
export interface AuthNatsServer {
  url: string;
  passwords: Record<BusApp, string>;
  stop(): Promise<void>;
}

/** Starts `nats-server` (from PATH) on `port` with a fresh store; resolves once it accepts logins. */
export async function startAuthNatsServer(port: number): Promise<AuthNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'roam-nats-'));
  const config = join(dir, 'nats.conf');
  writeFileSync(config, renderNatsConfig({ host: '127.0.0.1', port, storeDir: join(dir, 'js') }));
  const passwords = Object.fromEntries(
    busApps.map((app) => [app, `p${randomBytes(16).toString('hex')}`]),
  ) as Record<BusApp, string>;
  const env = { ...process.env };
  for (const app of busApps) env[natsPasswordVariable(app)] = passwords[app];
  const child: ChildProcess = spawn('nats-server', ['-c', config], { env, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `nats://127.0.0.1:${port}`;
  await eventually(`nats-server on ${url}`, async () => {
    const nc = await connect({ servers: url, user: 'storage', pass: passwords.storage });
    await nc.close();
    return true;
  });
  return {
    url,
    passwords,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
