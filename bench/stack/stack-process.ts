/**
 * The stack under test: `node apps/stack/dist/main.js`, exactly what `pnpm dev` runs, as an
 * isolated stack (ROAM_STACK_USE_LOCAL=false: its own embedded PostgreSQL and nats-server, its
 * own state directory and ports), so it never touches a user's `roam` database or streams.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StackPorts {
  gateway: number;
  /** The six workers follow the gateway: gateway + 1 … + 6. */
  sim: number;
  s3: number;
  postgres: number;
  nats: number;
}

/** Gateway on `base`, workers on the next six, simulator +7 (+8, +9 its RunPod and Compute APIs), S3 +10, Postgres +11, NATS +12. */
export function portsFrom(base: number): StackPorts {
  return { gateway: base, sim: base + 7, s3: base + 10, postgres: base + 11, nats: base + 12 };
}

export interface StackOptions {
  root: string;
  stateDir: string;
  ports: StackPorts;
  /** Simulated cluster: pools of identical nodes. */
  nodes: number;
  podsPerNode: number;
  /** Simulated seconds per real second. */
  simSpeed: number;
  /** Directory for `node --cpu-prof` output of every Node process; none = no profiling. */
  cpuProfDir?: string | undefined;
  /** Only these apps (`ROAM_STACK_APPS`, gateway first); default every app. */
  apps?: string[] | undefined;
  /** Load pg_stat_statements (with planning times) into the embedded Postgres. */
  pgStatements?: boolean | undefined;
}

/** What `pgStatements` asks of the embedded Postgres (`ROAM_STACK_PG_SETTINGS`). */
const PG_STATEMENTS_SETTINGS = [
  'shared_preload_libraries=pg_stat_statements',
  'pg_stat_statements.track=all',
  'pg_stat_statements.track_planning=on',
];

export interface RunningStack {
  child: ChildProcess;
  gatewayUrl: string;
  databaseUrl: string;
  natsUrl: string;
  simUrl: string;
  adminToken: string;
  /** Where the launcher's output went. */
  logFile: string;
}

const profArgs = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];

/** The variables that would point the stack at a user's services instead of its own. */
const INHERITED_SERVICES = [
  'DATABASE_URL',
  'NATS_URL',
  'KUBECONFIG',
  'ROAM_KUBECONFIG',
  'S3_ENDPOINT',
  'NODE_OPTIONS',
  'ROAM_STACK_APPS',
  'ROAM_STACK_PG_SETTINGS',
];

export async function startStack(options: StackOptions, attempt: string): Promise<RunningStack> {
  const { ports, stateDir } = options;
  const worldFile = join(stateDir, 'bench-world.json');
  await writeFile(
    worldFile,
    JSON.stringify({
      pools: [
        {
          name: 'bench',
          nodes: options.nodes,
          capacity: {
            cpu: '64',
            memory: '256Gi',
            pods: String(options.podsPerNode),
            'ephemeral-storage': '500Gi',
          },
        },
      ],
    }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_SERVICES) delete env[name];
  const adminToken = 'bench-stack-admin-token-0123456789abcdef';
  Object.assign(env, {
    ROAM_STACK_USE_LOCAL: 'false',
    ROAM_STACK_STATE_DIR: stateDir,
    PORT: String(ports.gateway),
    ROAM_STACK_SIM_PORT: String(ports.sim),
    ROAM_STACK_S3_PORT: String(ports.s3),
    ROAM_STACK_PG_PORT: String(ports.postgres),
    ROAM_STACK_NATS_PORT: String(ports.nats),
    ROAM_ADMIN_TOKEN: adminToken,
    SIM_WORLD: worldFile,
    SIM_SPEED: String(options.simSpeed),
    // The bench tenants submit far above a user's default rate and body size.
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    MAX_BODY_BYTES: String(8 * 1024 * 1024),
    // Webhooks go to the bench's own receiver on 127.0.0.1.
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
    // Node refuses --cpu-prof in NODE_OPTIONS: the launcher passes it to its Node children.
    ...(options.cpuProfDir ? { ROAM_STACK_NODE_ARGS: profArgs(options.cpuProfDir).join(' ') } : {}),
    ...(options.apps ? { ROAM_STACK_APPS: options.apps.join(',') } : {}),
    ...(options.pgStatements ? { ROAM_STACK_PG_SETTINGS: PG_STATEMENTS_SETTINGS.join(' ') } : {}),
  });
  const logFile = join(stateDir, `stack-${attempt}.log`);
  const fd = openSync(logFile, 'a');
  const launcherArgs = options.cpuProfDir ? profArgs(options.cpuProfDir) : [];
  const main = join(options.root, 'apps', 'stack', 'dist', 'main.js');
  const child = spawn(process.execPath, [...launcherArgs, main], {
    cwd: options.root,
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return {
    child,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    databaseUrl: `postgresql://postgres:postgres@127.0.0.1:${ports.postgres}/roam`,
    natsUrl: `nats://127.0.0.1:${ports.nats}`,
    simUrl: `http://127.0.0.1:${ports.sim}`,
    adminToken,
    logFile,
  };
}

/**
 * Resolves once every app answers /health/ready (the first `apps` of the stack's seven ports);
 * throws if the launcher exits first.
 */
export async function waitReady(
  stack: RunningStack,
  ports: StackPorts,
  timeoutMs = 180_000,
  apps = 7,
): Promise<void> {
  const urls = Array.from({ length: apps }, (_, i) => `http://127.0.0.1:${ports.gateway + i}`);
  const pending = new Set(urls);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    if (stack.child.exitCode !== null || stack.child.signalCode !== null)
      throw new Error(`the stack exited (${stack.child.exitCode}); see ${stack.logFile}`);
    if (Date.now() > deadline)
      throw new Error(`the stack was not ready within ${timeoutMs / 1000} s; see ${stack.logFile}`);
    await Promise.all(
      [...pending].map(async (url) => {
        const status = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.status)
          .catch(() => 0);
        if (status === 200) pending.delete(url);
      }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGINT, as Ctrl-C would; resolves when the launcher (and so every child) has exited. */
export async function stopStack(stack: RunningStack): Promise<void> {
  const child = stack.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}
