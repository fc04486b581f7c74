import { envBoolean, workerEnv } from '@roam/config';
import { z } from 'zod';

const list = z
  .string()
  .optional()
  .transform((v) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
  );

/** Per-tenant narrowing of the GPU policy (roam jobs): `{ "<tenant>": { … } }`. */
const tenantPolicies = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (!v) return {};
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string(),
      z
        .object({
          maxGpuPrice: z.number().positive().optional(),
          allowGpuTypes: z.array(z.string()).optional(),
          denyGpuTypes: z.array(z.string()).optional(),
          allowDataCenters: z.array(z.string()).optional(),
          denyDataCenters: z.array(z.string()).optional(),
        })
        .strict(),
    ),
  );

/**
 * The RunPod controller's flags as roam env (docs/offload.md): `--reconcile-interval` → RECONCILE_INTERVAL_MS,
 * `--pending-job-threshold` → PENDING_JOB_THRESHOLD, `--max-pending-time` →
 * MAX_PENDING_TIME_SECONDS, `--max-gpu-price` → MAX_GPU_PRICE, `--health-server-address` →
 * HOST + PORT (the app's one HTTP server serves `/healthz`, `/readyz` and `/health/*`),
 * `--kubeconfig` → KUBECONFIG.
 */
export const offloadEnv = workerEnv('offload').extend({
  RUNPOD_API_URL: z
    .string()
    .url()
    .default('https://rest.runpod.io/v1')
    .describe('RunPod REST v1 base URL.'),
  RUNPOD_GRAPHQL_URL: z
    .string()
    .url()
    .optional()
    .describe('RunPod GraphQL (GPU price list); derived from RUNPOD_API_URL when unset.'),
  RUNPOD_API_KEY: z
    .string()
    .min(1)
    .optional()
    .describe('RunPod API key; unset = read from RUNPOD_API_KEY_SECRET.'),
  RUNPOD_API_KEY_SECRET: z
    .string()
    .regex(/^[a-z0-9-]+\/[a-z0-9.-]+\/[A-Za-z0-9_.-]+$/, 'namespace/name/key')
    .default('kube-system/runpod-controller-secrets/RUNPOD_KEY')
    .describe(
      'Kubernetes Secret holding the key (the RunPod controller: runpod-controller-secrets, key RUNPOD_KEY).',
    ),
  RUNPOD_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(15_000)
    .describe('Time one RunPod API request may take before it fails as timed out.'),
  RUNPOD_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(4)
    .describe('Attempts of a RunPod call on a timeout, 429 or 5xx (never for a pod create).'),
  RUNPOD_CLOUD_TYPE: z.enum(['SECURE', 'COMMUNITY']).default('SECURE'),
  PENDING_JOB_THRESHOLD: z.coerce
    .number()
    .int()
    .min(0)
    .default(1)
    .describe('Offload once more jobs than this are pending.'),
  MAX_PENDING_TIME_SECONDS: z.coerce
    .number()
    .min(0)
    .default(0)
    .describe('Offload a job pending this long.'),
  MAX_GPU_PRICE: z.coerce
    .number()
    .positive()
    .default(0.5)
    .describe('USD per hour for the whole pod.'),
  OFFLOAD_ALLOW_GPU_TYPES: list.describe('Comma-separated RunPod GPU type ids; unset = all.'),
  OFFLOAD_DENY_GPU_TYPES: list,
  OFFLOAD_ALLOW_DATA_CENTERS: list,
  OFFLOAD_DENY_DATA_CENTERS: list,
  OFFLOAD_TENANT_POLICIES: tenantPolicies.describe(
    'JSON per tenant: maxGpuPrice, allow/deny GPU types and data centres.',
  ),
  OFFLOAD_ROAM_JOBS: envBoolean
    .default(true)
    .describe('Also offload roam jobs waiting in Postgres.'),
  KUEUE_OFFLOAD_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(300)
    .describe(
      'ROAM_ADMISSION=kueue: a GPU job (offload allowed) that Kueue has not admitted this long is offloaded; its suspended Job and Workload are deleted.',
    ),
  VIRTUAL_NODE_NAME: z.string().min(1).default('runpod-virtual-node'),
  OFFLOAD_CREATE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe(
      'An Offload row still `creating` this long is repaired (adopt the tagged pod or give up).',
    ),
  OFFLOAD_TEST_CRASH_POINT: z
    .enum(['after-runpod-create'])
    .optional()
    .describe('Tests only: the worker stops dead at this point, as if killed with -9.'),
});

export type OffloadConfig = z.infer<typeof offloadEnv>;
