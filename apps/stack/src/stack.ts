import { access, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { appPorts, type AppName, type StackConfig } from './config.js';
import { prepareEmbeddedPostgres } from './embedded-postgres.js';
import { type NatsLogins, natsServerSpec } from './nats.js';
import type { Output } from './output.js';
import { describe, httpStatus, portFree, probeNats, probePostgres } from './probes.js';
import {
  describeChoice,
  LOCAL_NATS,
  LOCAL_POSTGRES,
  planResultVolumes,
  planServices,
  probesNeeded,
  redact,
  type ServicePlan,
} from './services.js';
import { acquireLock, adminToken } from './state.js';
import { type ChildSpec, Supervisor } from './supervisor.js';

/** The migration entry point of @roam/db, injected so the launcher can be tested without it. */
export type Migrate = (options: {
  databaseUrl: string;
  log: (line: string) => void;
}) => Promise<{ applied: string[] }>;

export interface StackDeps {
  config: StackConfig;
  /** Repository root: where apps/<name>/dist/main.js live. */
  root: string;
  output: Output;
  migrate: () => Promise<Migrate>;
  env: NodeJS.ProcessEnv;
}

/** Stop order: apps first (they still need the services while draining), infrastructure last. */
const SERVICE_STOP_ORDER = [['sim', 's3'], ['nats'], ['postgres']];
const SERVICES = ['postgres', 'nats', 'sim', 's3'];

/**
 * The whole local stack: chooses or starts Postgres, NATS and the Kubernetes simulator,
 * migrates, starts every app under one supervisor, waits for readiness and prints where
 * everything is. `stop()` tears it down in reverse dependency order.
 */
export class Stack {
  private readonly supervisor: Supervisor;
  private readonly aborted = new AbortController();
  private releaseLock: (() => Promise<void>) | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** True when the launcher runs s3rver (object storage) because S3_ENDPOINT is not set. */
  private s3 = false;
  private s3Endpoint: string | undefined;
  private volumes: ReturnType<typeof planResultVolumes>;
  /** Per-app NATS logins when the stack runs its own nats-server; none for an open one. */
  private natsLogins: NatsLogins | undefined;

  constructor(private readonly deps: StackDeps) {
    const { config, output } = deps;
    this.supervisor = new Supervisor({
      policy: {
        initialMs: config.ROAM_STACK_BACKOFF_INITIAL_MS,
        maxMs: config.ROAM_STACK_BACKOFF_MAX_MS,
        factor: 2,
        resetAfterMs: config.ROAM_STACK_BACKOFF_RESET_MS,
      },
      graceMs: config.ROAM_STACK_GRACE_MS,
      log: (message) => output.info(message),
    });
    this.supervisor.on('event', (event) => {
      if (event.type === 'line') output.child(event.name, event.stream, event.line);
      if (event.type === 'spawn' && event.restarts > 0)
        output.info(`${event.name} restarted (pid ${event.pid})`);
    });
    output.register([...SERVICES, ...config.ROAM_STACK_APPS]);
  }

  /** Resolves once every app is ready; throws (after cleaning up) when the stack cannot start. */
  async start(): Promise<void> {
    const { config, output } = this.deps;
    await mkdir(config.stateDir, { recursive: true });
    const lock = await acquireLock(config.stateDir);
    this.releaseLock = () => lock.release();
    this.started = true;

    const ports = appPorts(config);
    await this.checkPortsFree(ports);

    const env = this.deps.env;
    const needed = probesNeeded({ DATABASE_URL: config.DATABASE_URL, NATS_URL: config.NATS_URL });
    const skipped = { ok: false, reason: 'not used (ROAM_STACK_USE_LOCAL=false)' } as const;
    const [postgresProbe, natsProbe] = await Promise.all([
      needed.postgres
        ? config.ROAM_STACK_USE_LOCAL
          ? probePostgres(LOCAL_POSTGRES.probeUrl)
          : skipped
        : undefined,
      needed.nats
        ? config.ROAM_STACK_USE_LOCAL
          ? probeNats(LOCAL_NATS.host, LOCAL_NATS.port)
          : skipped
        : undefined,
    ]);
    const plan = planServices({
      env: { ...env, DATABASE_URL: config.DATABASE_URL, NATS_URL: config.NATS_URL },
      probes: {
        ...(postgresProbe && { postgres: postgresProbe }),
        ...(natsProbe && { nats: natsProbe }),
      },
      embedded: {
        postgresPort: config.ROAM_STACK_PG_PORT,
        natsPort: config.ROAM_STACK_NATS_PORT,
        simPort: config.ROAM_STACK_SIM_PORT,
      },
      simKubeconfigPath: join(config.stateDir, 'kubeconfig'),
    });

    this.volumes = planResultVolumes({
      results: config.ROAM_STACK_RESULTS,
      pvcRoot: config.RESULTS_PVC_ROOT,
      kube: plan.kube.kind,
      stateDir: config.stateDir,
    });
    await this.startServices(plan);
    await this.startObjectStorage();
    this.throwIfAborted();

    const migrate = await this.deps.migrate();
    const { applied } = await migrate({
      databaseUrl: plan.postgres.url,
      log: (line) => output.info(`migrate: ${line}`),
    });
    output.info(
      applied.length
        ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
        : 'database schema is up to date',
    );
    this.throwIfAborted();

    const token = config.ROAM_ADMIN_TOKEN
      ? { token: config.ROAM_ADMIN_TOKEN, source: 'from ROAM_ADMIN_TOKEN' }
      : await adminToken(config.stateDir).then((t) => ({
          token: t.token,
          source: `${t.created ? 'generated into' : 'from'} ${this.rel(t.path)}`,
        }));

    for (const name of config.ROAM_STACK_APPS) {
      this.supervisor.start(this.appSpec(name, ports[name], plan, token.token));
    }
    await this.waitForApps(ports);
    this.printSummary(plan, ports, token);
  }

  /** Idempotent; safe to call while `start()` is still in progress. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.aborted.abort();
      const apps = this.supervisor.names().filter((n) => !SERVICES.includes(n));
      if (apps.length) this.deps.output.info(`stopping ${apps.join(', ')}`);
      await this.supervisor.stop(apps);
      for (const group of SERVICE_STOP_ORDER) {
        const present = group.filter((n) => this.supervisor.names().includes(n));
        if (!present.length) continue;
        this.deps.output.info(`stopping ${present.join(', ')}`);
        await this.supervisor.stop(present);
      }
      await this.releaseLock?.();
      if (this.started) this.deps.output.info('stopped');
    })();
    return this.stopping;
  }

  /** For an exit that cannot wait (uncaught error): SIGKILL everything now. */
  killAllNow(): void {
    this.supervisor.killAllNow();
  }

  pid(name: string): number | undefined {
    return this.supervisor.pid(name);
  }

  private async startServices(plan: ServicePlan): Promise<void> {
    const { config, output } = this.deps;
    const timeoutMs = config.ROAM_STACK_SERVICE_TIMEOUT_MS;

    if (plan.postgres.kind !== 'embedded' && config.ROAM_STACK_PG_SETTINGS.length > 0)
      output.info(
        'ROAM_STACK_PG_SETTINGS applies to the embedded PostgreSQL only: not used with this one',
      );
    if (plan.postgres.kind === 'embedded') {
      output.info(
        `starting embedded PostgreSQL on port ${plan.postgres.port} (${plan.postgres.reason})`,
      );
      const pg = await prepareEmbeddedPostgres({
        dataDir: join(config.stateDir, 'postgres'),
        port: plan.postgres.port,
        log: (m) => output.info(m),
        settings: config.ROAM_STACK_PG_SETTINGS,
      });
      this.supervisor.start(pg.spec);
      await this.waitFor(
        'PostgreSQL',
        timeoutMs,
        async () => (await probePostgres(pg.adminUrl)).ok,
      );
    }

    if (plan.nats.kind === 'embedded') {
      output.info(`starting nats-server on port ${plan.nats.port} (${plan.nats.reason})`);
      const port = plan.nats.port;
      // Our own nats-server runs with per-app users; each app gets its login (appSpec).
      const nats = await natsServerSpec({
        executable: config.ROAM_STACK_NATS_SERVER,
        port,
        stateDir: config.stateDir,
      });
      this.natsLogins = nats.logins;
      this.supervisor.start(nats.spec);
      await this.waitFor('NATS', timeoutMs, async () => (await probeNats('127.0.0.1', port)).ok);
    }

    if (plan.kube.kind === 'simulator') {
      const { kubeconfigPath, port } = plan.kube;
      const main = join(this.deps.root, 'apps', 'sim', 'dist', 'main.js');
      await access(main).catch(() => {
        throw new Error(
          `the Kubernetes simulator is not built (${this.rel(main)} missing; run node scripts/build.mjs), or set KUBECONFIG`,
        );
      });
      output.info(`starting the Kubernetes simulator on port ${port}`);
      // A child rather than startSimulator() in-process: the same supervision and restart as
      // the apps, its logs prefixed like theirs, and a simulator crash cannot take the launcher down.
      this.supervisor.start({
        name: 'sim',
        command: process.execPath,
        args: ['--enable-source-maps', ...config.ROAM_STACK_NODE_ARGS, main],
        cwd: this.deps.root,
        env: {
          ...this.deps.env,
          SIM_PORT: String(port),
          SIM_KUBECONFIG: kubeconfigPath,
          SIM_SNAPSHOT: join(config.stateDir, 'sim-snapshot.json'),
          // PVC mode: claims live on disk, where the apps' RESULTS_PVC_ROOT finds them.
          ...(this.volumes?.simVolumesDir ? { SIM_VOLUMES_DIR: this.volumes.simVolumesDir } : {}),
          LOG_LEVEL: config.LOG_LEVEL,
        },
      });
      await this.waitFor('the Kubernetes simulator', timeoutMs, async () => {
        if ((await httpStatus(`http://127.0.0.1:${port}/version`)) === undefined) return false;
        return access(kubeconfigPath).then(
          () => true,
          () => false,
        );
      });
    }
  }

  /**
   * Object storage for inputs, results and log archives: S3_ENDPOINT when given, else s3rver
   * as a supervised child like the simulator (its CPU shows on its own, a burst of uploads
   * cannot slow the launcher's log relay, and a crash of it is restarted).
   */
  private async startObjectStorage(): Promise<void> {
    const { config, output } = this.deps;
    if (this.volumes) {
      output.info(
        `PVC mode: inputs, results and logs on the tenant volumes (${this.volumes.pvcRoot})`,
      );
      return;
    }
    if (config.S3_ENDPOINT) {
      this.s3Endpoint = config.S3_ENDPOINT;
      return;
    }
    const main = join(this.deps.root, 'apps', 'stack', 'dist', 's3-server.js');
    const port = config.ROAM_STACK_S3_PORT;
    // A busy port would let the readiness probe below pass against whatever holds it.
    if (!(await portFree(port)))
      throw new Error(
        `port ${port} (s3rver) already in use: is another roam stack running? Choose another with ROAM_STACK_S3_PORT, or set S3_ENDPOINT.`,
      );
    this.s3 = true;
    this.s3Endpoint = `http://127.0.0.1:${port}`;
    output.info(`starting s3rver (object storage) on port ${port}`);
    this.supervisor.start({
      name: 's3',
      command: process.execPath,
      args: ['--enable-source-maps', ...config.ROAM_STACK_NODE_ARGS, main],
      cwd: this.deps.root,
      env: {
        ...this.deps.env,
        S3RVER_DIR: join(config.stateDir, 's3'),
        S3RVER_PORT: String(port),
      },
    });
    await this.waitFor(
      's3rver',
      config.ROAM_STACK_SERVICE_TIMEOUT_MS,
      async () => (await httpStatus(`${this.s3Endpoint}/`)) !== undefined,
    );
  }

  private appSpec(name: AppName, port: number, plan: ServicePlan, token: string): ChildSpec {
    const { config, root } = this.deps;
    return {
      name,
      command: process.execPath,
      args: [
        '--enable-source-maps',
        ...config.ROAM_STACK_NODE_ARGS,
        join(root, 'apps', name, 'dist', 'main.js'),
      ],
      cwd: root,
      env: {
        ...this.deps.env,
        DATABASE_URL: plan.postgres.url,
        NATS_URL: plan.nats.url,
        ...(this.natsLogins?.[name] ?? {}),
        HOST: config.HOST,
        PORT: String(port),
        KUBECONFIG: plan.kube.kubeconfigPath,
        ROAM_KUBECONFIG: plan.kube.kubeconfigPath,
        ...(this.s3Endpoint
          ? {
              S3_ENDPOINT: this.s3Endpoint,
              // s3rver takes any credentials; a real S3_ENDPOINT brings its own keys in env.
              ...(this.s3 ? { S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' } : {}),
            }
          : {}),
        ...(this.volumes ? { RESULTS_PVC_ROOT: this.volumes.pvcRoot } : {}),
        ROAM_ADMIN_TOKEN: token,
        // The local stack keeps SUMO-K8's flow (register without a key); production's
        // default is admin-only.
        ...(name === 'gateway'
          ? { ROAM_REGISTRATION: this.deps.env.ROAM_REGISTRATION ?? 'open' }
          : {}),
        LOG_LEVEL: config.LOG_LEVEL,
        // The simulator also serves a Compute Engine API (its port + 2) for failover repairs
        // and a RunPod API (its port + 1) for offload.
        ...(plan.kube.kind === 'simulator'
          ? {
              COMPUTE_API_URL:
                this.deps.env.COMPUTE_API_URL ??
                `http://127.0.0.1:${config.ROAM_STACK_SIM_PORT + 2}`,
              GCE_PROJECT: this.deps.env.GCE_PROJECT ?? 'roam-sim',
              RUNPOD_API_URL:
                this.deps.env.RUNPOD_API_URL ??
                `http://127.0.0.1:${config.ROAM_STACK_SIM_PORT + 1}/v1`,
              RUNPOD_API_KEY: this.deps.env.RUNPOD_API_KEY ?? 'simulated',
            }
          : {}),
      },
    };
  }

  private async waitForApps(ports: Record<AppName, number>): Promise<void> {
    const { config, output } = this.deps;
    const pending = new Set<AppName>(config.ROAM_STACK_APPS);
    let lastReport = Date.now();
    while (pending.size > 0) {
      this.throwIfAborted();
      await Promise.all(
        [...pending].map(async (name) => {
          if ((await httpStatus(`${this.baseUrl(ports[name])}/health/ready`)) === 200) {
            pending.delete(name);
            output.info(`${name} is ready`);
          }
        }),
      );
      // Apps have no deadline: a crash-looping app is restarted with backoff and reported here,
      // and the rest of the stack stays up for the developer to look at.
      if (pending.size > 0 && Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        output.info(`still waiting for ${[...pending].join(', ')} to be ready`);
      }
      if (pending.size > 0) await this.sleep(250);
    }
  }

  private async waitFor(
    what: string,
    timeoutMs: number,
    check: () => Promise<boolean>,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      this.throwIfAborted();
      if (Date.now() > deadline)
        throw new Error(
          `${what} did not answer within ${timeoutMs / 1000}s (see its log lines above)`,
        );
      await this.sleep(200);
    }
  }

  private async checkPortsFree(ports: Record<AppName, number>): Promise<void> {
    const { config } = this.deps;
    const wanted: [string, number][] = config.ROAM_STACK_APPS.map((name) => [name, ports[name]]);
    const busy: string[] = [];
    await Promise.all(
      wanted.map(async ([name, port]) => {
        if (
          !(await portFree(
            port,
            config.HOST === '0.0.0.0' || config.HOST === '::' ? undefined : config.HOST,
          ))
        ) {
          busy.push(`${port} (${name})`);
        }
      }),
    );
    if (busy.length) {
      throw new Error(
        `port(s) ${busy.join(', ')} already in use: is another roam stack running (perhaps from another checkout)? ` +
          'Stop it, or choose other ports with PORT and ROAM_STACK_WORKER_BASE_PORT.',
      );
    }
  }

  private printSummary(
    plan: ServicePlan,
    ports: Record<AppName, number>,
    token: { token: string; source: string },
  ): void {
    const { config, output } = this.deps;
    const lines = ['roam is ready', ''];
    for (const name of config.ROAM_STACK_APPS) {
      const url = this.baseUrl(ports[name]);
      lines.push(
        `  ${name.padEnd(11)} ${name === 'gateway' ? `${url}  (API; health at ${url}/health)` : `${url}/health/ready`}`,
      );
      if (name === 'gateway')
        lines.push(`  ${'console'.padEnd(11)} ${url}/console/  (web UI; sign in with an API key)`);
    }
    lines.push(
      '',
      `  ${describeChoice('postgres', plan.postgres)}`,
      `  ${describeChoice('nats', plan.nats)}`,
    );
    lines.push(
      plan.kube.kind === 'simulator'
        ? `  kubernetes: simulator at http://127.0.0.1:${plan.kube.port} (kubectl --kubeconfig ${this.rel(plan.kube.kubeconfigPath)} get pods -A)`
        : `  kubernetes: ${plan.kube.kubeconfigPath} (from ${plan.kube.variable})`,
    );
    lines.push(
      this.volumes
        ? `  results: PVC mode, tenant volumes at ${this.volumes.pvcRoot}`
        : `  object storage: ${this.s3Endpoint ?? 'none'}${this.s3 ? ` (s3rver, data in ${this.rel(join(config.stateDir, 's3'))}/, bucket roam)` : ' (from S3_ENDPOINT)'}`,
    );
    lines.push(
      `  admin token: ${token.token} (${token.source})`,
      `  state: ${this.rel(config.stateDir)}/`,
      '',
      'Ctrl-C stops everything.',
    );
    for (const line of lines) output.info(line);
  }

  private baseUrl(port: number): string {
    const host = this.deps.config.HOST;
    return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  }

  private rel(path: string): string {
    const r = relative(process.cwd(), path);
    return r && !r.startsWith('..') ? r : path;
  }

  private throwIfAborted(): void {
    if (this.aborted.signal.aborted) throw new StackStoppedError();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.aborted.signal;
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** start() was interrupted by stop() (Ctrl-C during startup): not an error to report. */
export class StackStoppedError extends Error {
  constructor() {
    super('stopped during startup');
    this.name = 'StackStoppedError';
  }
}

export { describe as describeError, redact };
