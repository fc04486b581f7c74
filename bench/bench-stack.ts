import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startSimulator } from '@roam/sim';
import {
  createTestDatabase,
  deleteTestStreams,
  type TestDatabase,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';

import { type AppProcess, startApp, stopApp } from '../test/support/processes.js';
import { sleep } from './figures.js';

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789';

export interface BenchStack {
  db: TestDatabase;
  /** The NATS subject prefix of this run. */
  prefix: string;
  /**
   * Starts the gateway, scheduler and reconciler on `ports` (with `env` on top of the common
   * settings), registers the tenant `bench` with room for everything and waits until it is
   * ready. Answers the gateway's URL and the headers of a JSON request as that tenant.
   */
  start(
    ports: { gateway: number; scheduler: number; reconciler: number },
    env: Record<string, string>,
  ): Promise<{ url: string; headers: Record<string, string>; gateway: AppProcess }>;
  /** Stops everything and drops the database (kept, and its URL printed, with BENCH_KEEP_DB=1). */
  close(): Promise<void>;
}

/**
 * A database and NATS prefix of its own and an in-process Kubernetes simulator with room to
 * spare (40 nodes of 64 CPUs), for a benchmark of the apps as their own processes.
 */
export async function openBenchStack(name: string): Promise<BenchStack> {
  const dir = await mkdtemp(join(tmpdir(), 'roam-bench-'));
  const prefix = testSubjectPrefix();
  const db = await createTestDatabase(name);
  const sim = await startSimulator({
    port: 0,
    speed: 1000,
    kubeconfigPath: join(dir, 'kubeconfig'),
    world: {
      pools: [{ name: 'bench', nodes: 40, capacity: { cpu: '64', memory: '256Gi', pods: '500' } }],
    },
    log: () => {},
  });
  const apps: AppProcess[] = [];
  return {
    db,
    prefix,
    async start(ports, env) {
      const common = {
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: '20',
        NATS_URL: testNatsUrl(),
        NATS_SUBJECT_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        KUBECONFIG: sim.kubeconfigPath,
        ROAM_ADMIN_TOKEN: ADMIN_TOKEN,
        ADMISSION_INTERVAL_MS: '100',
        KUBE_CREATE_CONCURRENCY: '64',
      };
      for (const [app, port] of Object.entries(ports))
        apps.push(await startApp(app, { ...common, ...env, PORT: String(port) }));
      const url = apps[0]!.url;
      const register = await fetch(`${url}/auth/register`, {
        method: 'POST',
        // As an admin: open registration would cap the limits asked for.
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({
          tenant_id: 'bench',
          max_cpu: 100000,
          max_memory_gi: 100000,
          max_concurrent_jobs: 100000,
        }),
      });
      const { api_key: key } = (await register.json()) as { api_key: string };
      while ((await db.prisma.tenant.findUnique({ where: { id: 'bench' } }))?.status !== 'ready')
        await sleep(100);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
      return { url, headers, gateway: apps[0]! };
    },
    async close() {
      for (const app of apps) await stopApp(app);
      await sim.close();
      // BENCH_KEEP_DB=1 keeps the database for looking at job timelines afterwards.
      if (process.env.BENCH_KEEP_DB) console.log(`kept database: ${db.url}`);
      else await db.drop();
      await deleteTestStreams(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
