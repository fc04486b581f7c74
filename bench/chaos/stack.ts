// The stack under test: `pnpm dev`'s launcher run in-process, isolated (its own embedded
// Postgres, nats-server, simulator and s3rver on ports of its own), so the chaos run may kill
// every part of it. The supervisor restarts whatever dies; `pid(name)` finds the current one.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// @ts-expect-error -- the built launcher (like the other benchmarks, this runs against dist).
import { loadStackConfig } from '../../apps/stack/dist/config.js';
// @ts-expect-error -- as above.
import { Stack } from '../../apps/stack/dist/stack.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const APPS = [
  'gateway',
  'scheduler',
  'reconciler',
  'storage',
  'offload',
  'failover',
  'notifier',
] as const;
export type App = (typeof APPS)[number];

export interface StackPorts {
  gateway: number;
  workerBase: number;
  postgres: number;
  nats: number;
  sim: number;
  runpod: number;
  s3: number;
}

/** Every port from one base: gateway, six workers, then the services. */
export function portsFrom(base: number): StackPorts {
  return {
    gateway: base,
    workerBase: base + 1,
    postgres: base + 10,
    nats: base + 11,
    sim: base + 20,
    runpod: base + 21,
    s3: base + 30,
  };
}

/** Where the launcher puts Postgres's data when the postgres user cannot use `preferred`. */
function postgresFallbackDir(preferred: string): string {
  const hash = createHash('sha256').update(resolve(preferred)).digest('hex').slice(0, 12);
  return join(tmpdir(), `roam-postgres-${hash}`);
}

interface LauncherStack {
  start(): Promise<void>;
  stop(): Promise<void>;
  killAllNow(): void;
  pid(name: string): number | undefined;
}

export interface ChaosStack {
  gateway: string;
  databaseUrl: string;
  adminToken: string;
  ports: StackPorts;
  logFile: string;
  pid(name: string): number | undefined;
  stop(): Promise<void>;
}

export async function startChaosStack(options: {
  stateDir: string;
  basePort: number;
  /** Extra environment for every app (tighter intervals, log level). */
  env?: Record<string, string>;
}): Promise<ChaosStack> {
  const ports = portsFrom(options.basePort);
  // A fresh state dir: every run starts from an empty database, stream store and cluster.
  rmSync(options.stateDir, { recursive: true, force: true });
  // Run as root, the launcher keeps Postgres's data outside a state dir the postgres user
  // cannot reach (apps/stack/src/embedded-postgres.ts): that copy goes too.
  rmSync(postgresFallbackDir(join(options.stateDir, 'postgres')), { recursive: true, force: true });
  mkdirSync(options.stateDir, { recursive: true });
  const logFile = join(options.stateDir, 'stack.log');
  const adminToken = `chaos-admin-${randomBytes(24).toString('hex')}`;

  const env: NodeJS.ProcessEnv = { ...process.env };
  // Whatever the caller's shell points at, the chaos stack owns its services.
  for (const name of [
    'DATABASE_URL',
    'NATS_URL',
    'NATS_SUBJECT_PREFIX',
    'KUBECONFIG',
    'ROAM_KUBECONFIG',
    'S3_ENDPOINT',
  ])
    delete env[name];
  Object.assign(env, {
    ROAM_STACK_USE_LOCAL: 'false',
    ROAM_STACK_STATE_DIR: options.stateDir,
    PORT: String(ports.gateway),
    ROAM_STACK_WORKER_BASE_PORT: String(ports.workerBase),
    ROAM_STACK_PG_PORT: String(ports.postgres),
    ROAM_STACK_NATS_PORT: String(ports.nats),
    ROAM_STACK_SIM_PORT: String(ports.sim),
    ROAM_STACK_S3_PORT: String(ports.s3),
    ROAM_ADMIN_TOKEN: adminToken,
    ROAM_STACK_LOG_FORMAT: 'json',
    // Restart fast: the run kills often, and a 30 s backoff would only stretch it.
    ROAM_STACK_BACKOFF_INITIAL_MS: '300',
    ROAM_STACK_BACKOFF_MAX_MS: '3000',
    ROAM_STACK_GRACE_MS: '3000',
    LOG_LEVEL: 'warn',
    OTEL_TRACES_EXPORTER: 'none',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
    // The retry schedule compressed 60× (its third attempt comes after 5 s, not 5 min) and a
    // short timeout, so a run settles in minutes; the order of attempts is unchanged.
    WEBHOOK_RETRY_SCALE: '60',
    WEBHOOK_TIMEOUT_MS: '3000',
    RECONCILE_INTERVAL_MS: '2000',
    // The GPU lane asks 4 GPUs with 16 GB each: the default cap ($0.5/h) fits no RunPod type,
    // and an `offload: required` job would wait for a GPU that no policy allows.
    MAX_GPU_PRICE: '20',
    ...options.env,
  });

  const write = (line: string) => appendFileSync(logFile, `${line}\n`);
  const output = {
    register: () => undefined,
    info: (message: string) => write(`[stack] ${message}`),
    error: (message: string) => write(`[stack] ERROR ${message}`),
    child: (name: string, _stream: string, line: string) => write(`[${name}] ${line}`),
  };
  const config: unknown = loadStackConfig(env, ROOT);
  const stack = new Stack({
    config,
    root: ROOT,
    output,
    env,
    migrate: async () => (await import('@roam/db')).migrateDatabase,
  }) as LauncherStack;
  const onExit = () => stack.killAllNow();
  process.once('exit', onExit);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      stack.killAllNow();
      process.exit(130);
    });
  try {
    await stack.start();
  } catch (err) {
    await stack.stop();
    throw new Error(`the chaos stack did not start (see ${logFile}): ${String(err)}`);
  }
  return {
    gateway: `http://127.0.0.1:${ports.gateway}`,
    databaseUrl: `postgresql://postgres:postgres@127.0.0.1:${ports.postgres}/roam`,
    adminToken,
    ports,
    logFile,
    pid: (name) => stack.pid(name),
    stop: async () => {
      await stack.stop();
      process.removeListener('exit', onExit);
    },
  };
}
