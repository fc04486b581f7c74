import { isAbsolute, join, resolve } from 'node:path';

import { z } from 'zod';

/** The apps the stack runs, in start order; workers get consecutive ports after the gateway. */
export const APP_NAMES = [
  'gateway',
  'scheduler',
  'reconciler',
  'storage',
  'offload',
  'failover',
  'notifier',
] as const;
export type AppName = (typeof APP_NAMES)[number];

const port = z.coerce.number().int().min(1).max(65535);
const millis = z.coerce.number().int().min(0);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
const urlWith = (protocols: string[]) =>
  optionalString.refine(
    (value) => value === undefined || protocols.some((p) => value.startsWith(`${p}//`)),
    `must be a ${protocols.join(' or ')} URL`,
  );

/**
 * Every variable the launcher reads. Descriptions and defaults here are what `--help` prints and
 * what apps/stack/README.md documents; keep them in step.
 */
export const stackEnvSchema = z.object({
  PORT: port.default(8000).describe('Gateway HTTP port.'),
  ROAM_STACK_WORKER_BASE_PORT: port
    .optional()
    .describe(
      'First worker health/metrics port; workers get it and the next five, in the order scheduler reconciler storage offload failover notifier. Default: gateway port + 1.',
    ),
  HOST: z.string().min(1).default('127.0.0.1').describe('Address every app binds to.'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .default('info')
    .describe('Log level passed to every app.'),
  DATABASE_URL: urlWith(['postgres:', 'postgresql:']).describe(
    'Postgres to use. Unset: local 127.0.0.1:5432 (user postgres, trust auth, database roam) if it answers, else an embedded PostgreSQL.',
  ),
  NATS_URL: urlWith(['nats:', 'tls:', 'ws:', 'wss:']).describe(
    'NATS (with JetStream) to use. Unset: 127.0.0.1:4222 if it answers with JetStream, else a nats-server started from PATH.',
  ),
  ROAM_KUBECONFIG: optionalString.describe('Kubeconfig of a real cluster (wins over KUBECONFIG).'),
  KUBECONFIG: optionalString.describe(
    'Kubeconfig of a real cluster. Unset (and no ROAM_KUBECONFIG): the Kubernetes simulator is started.',
  ),
  ROAM_ADMIN_TOKEN: optionalString
    .refine((value) => value === undefined || value.length >= 16, 'must be at least 16 characters')
    .describe('Admin API token. Unset: generated once and kept in <state dir>/admin-token.'),
  ROAM_STACK_STATE_DIR: optionalString.describe(
    'Where the stack keeps its state (embedded Postgres data, NATS store, kubeconfig, simulator snapshot, admin token, lock). Default: .roam/ in the repository.',
  ),
  ROAM_STACK_APPS: optionalString
    .transform((value) =>
      value === undefined
        ? [...APP_NAMES]
        : value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    )
    .pipe(z.array(z.enum(APP_NAMES)).min(1))
    .describe('Comma-separated subset of apps to run. Default: all seven.'),
  ROAM_STACK_USE_LOCAL: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true')
    .describe(
      'false: skip the local default Postgres/NATS and start embedded ones (an isolated stack).',
    ),
  ROAM_STACK_PG_PORT: port.default(5433).describe('Port of the embedded PostgreSQL.'),
  ROAM_STACK_NATS_PORT: port.default(4223).describe('Port of the launcher-started nats-server.'),
  ROAM_STACK_SIM_PORT: port.default(6443).describe('Port of the Kubernetes simulator.'),
  S3_ENDPOINT: urlWith(['http:', 'https:']).describe(
    'Object storage (S3/MinIO) the apps use. Unset: an s3rver the launcher runs as a child process, data under <state dir>/s3.',
  ),
  ROAM_STACK_S3_PORT: port.default(4568).describe('Port of the launcher-run s3rver.'),
  ROAM_STACK_RESULTS: z
    .enum(['s3', 'pvc'])
    .default('s3')
    .describe(
      "Where inputs, results and logs are kept: s3 (S3_ENDPOINT or the s3rver) or pvc (SUMO-K8's local-cluster mode: a roam-results PVC per tenant, no object storage).",
    ),
  RESULTS_PVC_ROOT: optionalString.describe(
    'PVC mode: where the tenant volumes are mounted on this machine. Default with the simulator: <state dir>/volumes/roam-{tenant}/roam-results (the simulator keeps claims there); required with a real cluster.',
  ),
  ROAM_STACK_NATS_SERVER: z
    .string()
    .min(1)
    .default('nats-server')
    .describe('nats-server executable (name on PATH or path).'),
  ROAM_STACK_NODE_ARGS: optionalString
    .transform((value) => (value ? value.split(/\s+/).filter(Boolean) : []))
    .describe(
      'Extra node arguments (space-separated) for every Node child: the apps, the simulator and s3rver; e.g. "--cpu-prof --cpu-prof-dir=prof" (Node refuses --cpu-prof in NODE_OPTIONS).',
    ),
  ROAM_STACK_PG_SETTINGS: optionalString
    .transform((value) => (value ? value.split(/\s+/).filter(Boolean) : []))
    .pipe(
      z.array(z.string().regex(/^[a-z_][a-z0-9_.]*=[^\s]+$/i, 'each setting must read name=value')),
    )
    .describe(
      'Extra settings (space-separated name=value) for the embedded PostgreSQL, passed as -c options; e.g. "shared_preload_libraries=pg_stat_statements" (pnpm bench:stack --pg-statements).',
    ),
  ROAM_STACK_GRACE_MS: millis
    .default(15_000)
    .describe('On shutdown, how long a process gets after SIGTERM before SIGKILL.'),
  ROAM_STACK_BACKOFF_INITIAL_MS: millis.default(500).describe('First restart delay after a crash.'),
  ROAM_STACK_BACKOFF_MAX_MS: millis.default(30_000).describe('Longest restart delay.'),
  ROAM_STACK_BACKOFF_RESET_MS: millis
    .default(60_000)
    .describe('Uptime after which a process counts as healthy and its restart delay resets.'),
  ROAM_STACK_SERVICE_TIMEOUT_MS: millis
    .default(60_000)
    .describe(
      'How long Postgres, NATS and the simulator get to answer before the launcher gives up.',
    ),
  ROAM_STACK_LOG_FORMAT: z
    .enum(['auto', 'pretty', 'json'])
    .default('auto')
    .describe(
      "Children's log lines: pretty (time, level, message, fields), json (as printed), auto (pretty on a terminal).",
    ),
});

export type StackEnv = z.infer<typeof stackEnvSchema>;

export interface StackConfig extends StackEnv {
  /** Resolved, absolute. */
  stateDir: string;
  workerBasePort: number;
}

export class StackConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      `invalid launcher configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}\n(run with --help for every variable)`,
    );
    this.name = 'StackConfigError';
  }
}

/** Validates the launcher's environment, listing every bad variable at once. */
export function loadStackConfig(env: NodeJS.ProcessEnv, repoRoot: string): StackConfig {
  const parsed = stackEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new StackConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(env)');
        const got = env[variable];
        return {
          variable,
          message: `${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`,
        };
      }),
    );
  }
  const value = parsed.data;
  const stateDir = value.ROAM_STACK_STATE_DIR
    ? isAbsolute(value.ROAM_STACK_STATE_DIR)
      ? value.ROAM_STACK_STATE_DIR
      : resolve(value.ROAM_STACK_STATE_DIR)
    : join(repoRoot, '.roam');
  return {
    ...value,
    stateDir,
    workerBasePort: value.ROAM_STACK_WORKER_BASE_PORT ?? value.PORT + 1,
  };
}

/** The port each app listens on: the gateway on PORT, workers consecutively from the base. */
export function appPorts(
  config: Pick<StackConfig, 'PORT' | 'workerBasePort'>,
): Record<AppName, number> {
  const ports = {} as Record<AppName, number>;
  let next = config.workerBasePort;
  for (const name of APP_NAMES) ports[name] = name === 'gateway' ? config.PORT : next++;
  return ports;
}

export function helpText(): string {
  const lines = [
    'pnpm dev — run the whole roam stack on this machine',
    '',
    'Starts (or finds) Postgres, NATS and a Kubernetes simulator, migrates the database, starts',
    'every app, restarts any that crash, and stops everything on Ctrl-C.',
    '',
    'Environment variables:',
  ];
  for (const [name, schema] of Object.entries(stackEnvSchema.shape)) {
    const description = (schema as z.ZodType).description ?? '';
    const fallback = defaultOf(schema as z.ZodType);
    lines.push(
      `  ${name}${fallback === undefined ? '' : ` (default ${fallback})`}`,
      `      ${description}`,
    );
  }
  return lines.join('\n');
}

function defaultOf(schema: z.ZodType): string | undefined {
  const result = schema.safeParse(undefined);
  if (!result.success || result.data === undefined) return undefined;
  const value: unknown = result.data;
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}
