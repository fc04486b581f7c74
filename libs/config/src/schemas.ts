import { isIP } from 'node:net';

import { z } from 'zod';

/** `10.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8`. */
export function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** `true/false/1/0/yes/no`, case-insensitive. `z.coerce.boolean()` would read "false" as true. */
export const envBoolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(' or ')} URL`,
  );

/** What every roam process reads. Each app extends it with its own keys and its default PORT. */
export const commonEnv = {
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe('development, test or production.'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .default('info')
    .describe('JSON log level (pino).'),
  HOST: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server binds to.'),
  DATABASE_URL: url(['postgresql:', 'postgres:'])
    .default('postgresql://postgres@127.0.0.1:5432/roam')
    .describe('Postgres connection string.'),
  DATABASE_POOL_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(10)
    .describe('Postgres connections in the pool.'),
  NATS_URL: z
    .string()
    .min(1)
    .default('nats://127.0.0.1:4222')
    .describe('NATS server(s) with JetStream, comma-separated.'),
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')
    .optional()
    .describe('Isolates one roam installation on a shared NATS (tests use it).'),
  NATS_USER: z
    .string()
    .min(1)
    .optional()
    .describe(
      'NATS user this app connects as (with NATS_PASSWORD); each app has its own (docs/security.md). Unset = anonymous.',
    ),
  NATS_PASSWORD: z.string().min(1).optional().describe("NATS_USER's password."),
  NATS_NKEY_SEED: z
    .string()
    .regex(/^SU[A-Z2-7]+$/, 'an nkey user seed (SU...)')
    .optional()
    .describe('NATS nkey user seed, instead of NATS_USER/NATS_PASSWORD.'),
  NATS_CREDS: z
    .string()
    .min(1)
    .optional()
    .describe('Path to a NATS .creds file (JWT + nkey seed), instead of a user or an nkey.'),
  NATS_TLS_CA: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of the CA that signed the NATS server's certificate; enables TLS."),
  NATS_TLS_CERT: z
    .string()
    .min(1)
    .optional()
    .describe('PEM client certificate for NATS mutual TLS (with NATS_TLS_KEY).'),
  NATS_TLS_KEY: z.string().min(1).optional().describe("NATS_TLS_CERT's private key (PEM file)."),
  NATS_MAX_DELIVER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe('Deliveries of a failing message before it is dead-lettered.'),
  NATS_ACK_WAIT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30_000)
    .describe(
      'JetStream ack wait: an unacked message is redelivered after it; running handlers heartbeat every third of it.',
    ),
  NATS_MAX_HANDLER_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000)
    .describe(
      'Longest a message handler may run; past it the message is dead-lettered (parked), never redelivered.',
    ),
  NATS_PUBLISH_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(5000)
    .describe("One publish attempt's wait for the stream's ack."),
  NATS_PUBLISH_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe('Attempts of one publish (timeouts included) before it fails.'),
  OUTBOX_RELAY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(50)
    .default(1000)
    .describe('How often the outbox relay republishes messages left unpublished by a crash.'),
  OUTBOX_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(20)
    .describe(
      'Relay attempts of one outbox message (timeouts included) before it is parked for an operator (GET /api/v1/admin/parked).',
    ),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10000)
    .describe('Grace period on SIGTERM/SIGINT before the process exits anyway.'),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024)
    .describe('Largest JSON request body accepted (413 above).'),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .describe("Service name on this process's spans; unset = roam-<app>."),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:'])
    .optional()
    .describe(
      'OTLP/HTTP collector base URL (spans go to <url>/v1/traces); unset = no trace export.',
    ),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'console', 'none'])
    .optional()
    .describe(
      'Where spans go: otlp, console (stdout) or none; unset = otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none.',
    ),
  METRICS_SAMPLE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(15_000)
    .describe(
      'How often sampled gauges (consumer lag, outbox backlog, jobs by status) are refreshed.',
    ),
};

export function appEnv<T extends z.ZodRawShape>(defaultPort: number, extra: T) {
  return z.object({
    ...commonEnv,
    PORT: port.default(defaultPort),
    ...extra,
  });
}

export const workerPorts = {
  gateway: 8000,
  scheduler: 8001,
  reconciler: 8002,
  storage: 8003,
  offload: 8004,
  failover: 8005,
  notifier: 8006,
} as const;

export type AppName = keyof typeof workerPorts;

/** Webhook destinations; read by the gateway (at registration) and the notifier (at delivery). */
const webhookDestinationEnv = {
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .optional()
    .describe(
      'Comma-separated CIDRs (127.0.0.0/8) and hostnames webhooks may reach although private, loopback or link-local. Unset: public addresses only.',
    ),
};

/**
 * The keyring that encrypts secrets at rest (webhook signing secrets, stored idempotent
 * responses); read by the gateway (which seals) and the notifier (which opens). See
 * `secret-box.ts` and docs/security.md ("Secrets at rest").
 */
const secretsEnv = {
  ROAM_SECRETS_KEYS: z
    .string()
    .optional()
    .describe(
      'Keys that encrypt secrets at rest: `id:base64key,…` (32-byte keys; the first seals, all open). Required in production; unset elsewhere: a key derived from DATABASE_URL, with a warning.',
    ),
};

/**
 * Object storage (inputs, results, log archives), read by the gateway, the scheduler and the
 * storage worker; docs/storage.md. Unset `S3_ENDPOINT` = no object storage: results stay on the
 * tenant PVC (SUMO-K8's local-cluster mode) and input uploads are not kept.
 */
export const objectStoreEnv = {
  S3_ENDPOINT: url(['http:', 'https:'])
    .optional()
    .describe('S3/MinIO endpoint (http://minio:9000). Unset: no object storage (PVC mode).'),
  S3_REGION: z.string().min(1).default('us-east-1').describe('S3 region (used for signing).'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
    .default('roam')
    .describe('Bucket for inputs, results and log archives; created at boot if missing.'),
  S3_ACCESS_KEY: z.string().min(1).default('S3RVER').describe('S3 access key id.'),
  S3_SECRET_KEY: z.string().min(1).default('S3RVER').describe('S3 secret access key.'),
  S3_PATH_STYLE: envBoolean
    .default(true)
    .describe('Path-style URLs (http://host/bucket/key): true for MinIO and s3rver.'),
  S3_PUBLIC_ENDPOINT: url(['http:', 'https:'])
    .optional()
    .describe(
      'Endpoint presigned URLs point at, when clients and pods reach the store by another address. Default: S3_ENDPOINT.',
    ),
  S3_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe(
      'An S3 request (or a transfer) that sends or receives nothing for this long fails as timed out.',
    ),
  S3_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe(
      'Attempts of an S3 call that can be repeated safely (stat, list, get, delete, put of a buffer) on a timeout or network error.',
    ),
  RESULTS_PVC_ROOT: z
    .string()
    .optional()
    .describe(
      "PVC mode (no S3_ENDPOINT): where the tenant volumes are mounted, <root>/<tenant>/ or wherever a {tenant} segment says (/volumes/roam-{tenant}/roam-results); a job's results are at results/<job>/ in its volume.",
    ),
};

/**
 * How much of the pending queue an admission snapshot reads. The scheduler decides on it and
 * the gateway's explain answers from it, so both apps read these two.
 */
export const admissionWindowEnv = {
  ADMISSION_MAX_PENDING: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(20_000)
    .describe('Pending jobs read per cycle, all tenants together (cut round-robin by tenant).'),
  ADMISSION_MAX_PENDING_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(1000)
    .describe(
      "Pending jobs read per cycle from each tenant's queue (its first ones by its own priority).",
    ),
};

/**
 * Who decides admission: roam's own scheduler, or Kueue on the cluster (roam then creates
 * each job's Job suspended in the tenant's LocalQueue and follows its Workload). The
 * scheduler acts on it and the gateway's explain answers from it, so both apps read it.
 */
export const admissionModeEnv = {
  ROAM_ADMISSION: z
    .enum(['roam', 'kueue'])
    .default('roam')
    .describe(
      "Who admits jobs: `roam` (roam's quotas, fair share and capacity) or `kueue` (Kueue's Workloads on the cluster).",
    ),
};

export const gatewayEnv = appEnv(workerPorts.gateway, {
  ...objectStoreEnv,
  ...admissionWindowEnv,
  ...admissionModeEnv,
  MAX_FILE_SIZE_MB: z.coerce
    .number()
    .positive()
    .default(100)
    .describe('Largest input archive accepted (SUMO-K8 default 100); 413 above.'),
  UPLOADS_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(2)
    .describe(
      'Concurrent job uploads (multipart `POST /api/v1/jobs`, seed `POST /jobs`) per tenant on one gateway replica; more answer 429.',
    ),
  UPLOADS_PER_REPLICA: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(8)
    .describe(
      'Concurrent job uploads on one gateway replica, all tenants together; more answer 429. Staging needs MAX_FILE_SIZE_MB × this on /tmp.',
    ),
  INPUTS_MAX_ENTRIES: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('Most files an input archive may hold (zip-bomb guard).'),
  INPUTS_MAX_UNCOMPRESSED_MB: z.coerce
    .number()
    .positive()
    .default(2048)
    .describe('Largest total expanded size of an input archive (zip-bomb guard).'),
  RESULTS_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(900)
    .describe('Lifetime of the presigned download URLs in result listings.'),
  RESULTS_PAGE_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe('Result files per listing page when the request gives no `limit`.'),
  RESULTS_PAGE_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1000)
    .describe('Largest `limit` a result listing accepts (each file on a page is presigned).'),
  ...webhookDestinationEnv,
  ...secretsEnv,
  SECRETS_RESEAL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(60_000)
    .describe(
      'How often the gateway re-encrypts secrets stored in clear or under a key that is no longer the first of ROAM_SECRETS_KEYS.',
    ),
  WEBHOOK_SECRET_GRACE_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 30)
    .default(24)
    .describe('After a webhook secret rotation, how long the previous secret still signs.'),
  LOGS_FOLLOW_START_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe('How long a log follow waits for a pending job to start before answering 409.'),
  LOGS_MAX_TAIL_LINES: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10_000)
    .describe('Largest `tail` a log read accepts; a tail read holds at most this many lines.'),
  LOGS_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 2 ** 20)
    .describe(
      'Most bytes one log read without `follow` returns; a longer log is cut, with a last line saying so.',
    ),
  STREAMS_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(20)
    .describe(
      'Concurrent open streams (event SSE, log SSE, log follows) per tenant on one gateway replica; more answer 429.',
    ),
  STREAM_KEY_CHECK_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(10)
    .describe(
      'How often an open stream re-checks the API key it was opened with; a revoked key or deleted tenant ends it.',
    ),
  EXPLAIN_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(2000)
    .describe(
      'How long one admission decision answers every `/explain` call on a gateway replica (0 = a decision per call).',
    ),
  EVENTS_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(20)
    .default(250)
    .describe('How often the gateway looks for new events to push to SSE clients.'),
  EVENTS_STALL_WARN_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30_000)
    .describe(
      'Warn when committed events have waited this long behind a database transaction still open (the event feed never passes one).',
    ),
  ROAM_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('Bootstrap admin bearer token; unset = only admin API keys are admins.'),
  ROAM_REGISTRATION: z
    .enum(['open', 'admin'])
    .default('admin')
    .describe('Who may POST /auth/register: anyone (open) or admins only.'),
  OPEN_REGISTRATION_MAX_CPU: z.coerce
    .number()
    .positive()
    .default(10)
    .describe(
      'Open registration: CPU cores a self-registered tenant gets; its body may only ask for less.',
    ),
  OPEN_REGISTRATION_MAX_MEMORY_GI: z.coerce
    .number()
    .positive()
    .default(20)
    .describe('Open registration: memory (GiB) a self-registered tenant gets, at most.'),
  OPEN_REGISTRATION_MAX_GPU: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Open registration: GPUs a self-registered tenant gets, at most.'),
  OPEN_REGISTRATION_MAX_CONCURRENT_JOBS: z.coerce
    .number()
    .int()
    .min(1)
    .default(2)
    .describe('Open registration: concurrent jobs a self-registered tenant gets, at most.'),
  OPEN_REGISTRATION_RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .positive()
    .default(10)
    .describe('Open registration: API requests per second a self-registered tenant gets, at most.'),
  OPEN_REGISTRATION_WEIGHT: z.coerce
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('Open registration: fair-share weight a self-registered tenant gets, at most.'),
  OPEN_REGISTRATION_OFFLOAD_BUDGET_USD: z.coerce
    .number()
    .min(0)
    .default(0)
    .describe(
      'Open registration: RunPod budget (USD) a self-registered tenant gets, at most; 0 = no spend until an admin sets one.',
    ),
  ANONYMOUS_RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .positive()
    .default(5)
    .describe(
      'Requests per second from one client address without an API key (registration included).',
    ),
  ANONYMOUS_RATE_LIMIT_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(50)
    .describe('Token bucket size for requests without an API key, per client address.'),
  AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .positive()
    .default(30)
    .describe(
      'Failed authentications refilled per minute per client address; past the burst, 429 without a key lookup.',
    ),
  AUTH_FAILURES_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('Failed authentications one client address may make at once before 429.'),
  TRUSTED_PROXIES: z
    .string()
    .refine(
      (value) => value.split(',').every((entry) => isAddressOrCidr(entry.trim())),
      'must be comma-separated IP addresses or CIDRs (10.0.0.0/8)',
    )
    .optional()
    .describe(
      'Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client; unset = the socket address is the client.',
    ),
  MAX_API_KEYS_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('Active API keys one tenant may hold (429 above).'),
  MAX_WEBHOOKS_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .default(50)
    .describe('Webhook endpoints one tenant may have (429 above).'),
  MAX_TEMPLATES_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .default(200)
    .describe('Job templates one tenant may have (429 above).'),
  RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .positive()
    .default(50)
    .describe('Default per-tenant request rate (token bucket); a tenant may set its own.'),
  RATE_LIMIT_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('Token bucket size (requests allowed at once).'),
  KUBECONFIG: z
    .string()
    .optional()
    .describe('Cluster to read (GET /admin/cluster); unset = in-cluster or ~/.kube/config.'),
  MAX_PENDING_JOBS_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(100_000)
    .describe('Most pending jobs a tenant may have; a submit that would exceed it is a 429.'),
  ARRAY_MAX_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(100_000)
    .describe('Most elements of one job array (`array.size`); 400 above.'),
});

/** How a worker's Kubernetes client treats the API server (client-go's QPS/burst and timeouts). */
export const kubeClientEnv = {
  KUBE_CLIENT_QPS: z.coerce
    .number()
    .min(0)
    .default(500)
    .describe(
      'Kubernetes API requests per second one worker sends on average (token bucket); 0 = unlimited.',
    ),
  KUBE_CLIENT_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe(
      'Kubernetes API requests one worker may send at once before KUBE_CLIENT_QPS applies.',
    ),
  KUBE_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe('Time one Kubernetes API call (request and answer) may take before it fails.'),
  KUBE_REQUEST_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(3)
    .describe(
      'Retries of a Kubernetes API call after a transient failure (connection error, timeout, 429 honouring Retry-After, 5xx).',
    ),
  KUBE_LOG_IDLE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe('A pod log read fails when its stream sends nothing for this long.'),
};

export const workerEnv = (name: Exclude<AppName, 'gateway'>) =>
  appEnv(workerPorts[name], {
    ...objectStoreEnv,
    KUBECONFIG: z
      .string()
      .optional()
      .describe('kubeconfig file of the cluster to manage; unset = in-cluster or ~/.kube/config.'),
    ...kubeClientEnv,
    RECONCILE_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(100)
      .default(10_000)
      .describe('Period of the level-triggered resync/converge loops.'),
  });

/** The notifier: workers' keys plus webhook delivery settings. */
export const notifierEnv = workerEnv('notifier').extend({
  ...webhookDestinationEnv,
  ...secretsEnv,
  WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('Time a webhook endpoint has to answer one attempt (2xx = delivered).'),
  WEBHOOK_RETRY_SCALE: z.coerce
    .number()
    .positive()
    .default(1)
    .describe(
      'Divides the retry schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); tests compress it.',
    ),
  WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT: z.coerce
    .number()
    .int()
    .min(1)
    .default(4)
    .describe('Requests in flight to one endpoint from one notifier.'),
  WEBHOOK_MAX_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .default(128)
    .describe('Requests in flight from one notifier in total.'),
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce
    .number()
    .positive()
    .default(120)
    .describe('An endpoint failing without a success for longer than this is disabled.'),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(250)
    .describe('How often the delivery loop looks for due deliveries when not woken.'),
  WEBHOOK_RETENTION_DAYS: z.coerce
    .number()
    .positive()
    .default(30)
    .describe('Finished webhook deliveries (and their attempts) older than this are deleted.'),
  EVENTS_RETENTION_DAYS: z.coerce
    .number()
    .positive()
    .default(30)
    .describe(
      'Events older than this leave the events table (GET /api/v1/events and SSE resume); NATS keeps its own retention.',
    ),
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(3_600_000)
    .describe('How often the notifier deletes deliveries and events past their retention.'),
});
export type NotifierConfig = z.infer<typeof notifierEnv>;

export type CommonConfig = z.infer<ReturnType<typeof appEnv<Record<never, never>>>>;
export type GatewayConfig = z.infer<typeof gatewayEnv>;
