import { z } from 'zod';

import { dependsOn, onDependencyFailure } from './dependencies.js';
import { groupName } from './groups.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes label key: optional DNS-subdomain prefix, then a name of ≤63 characters. */
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** Kubernetes quantity syntax; the value itself is checked by `@roam/domain` when admitted. */
const QUANTITY =
  /^([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** Bounds of a tenant's glob (`*.xml`, `out/**`): its length and its runs of `*`. */
export const GLOB_MAX_LENGTH = 255;
export const GLOB_MAX_WILDCARDS = 16;

/** A file glob a tenant supplies (template result patterns and required inputs). */
export const globPattern = z
  .string()
  .min(1)
  .max(GLOB_MAX_LENGTH)
  .refine((pattern) => (pattern.match(/\*+/g) ?? []).length <= GLOB_MAX_WILDCARDS, {
    message: `must have at most ${GLOB_MAX_WILDCARDS} wildcards (* or **)`,
  });

/**
 * Pod annotations a tenant may set. Annotations steer the kubelet, admission webhooks,
 * AppArmor/seccomp, the cluster autoscaler and roam's own offload, so only these are allowed:
 * keys without a prefix (`note`), the simulator's behaviour hints (`sim.roam.dev/…`, inert on
 * a real cluster) and RunPod's GPU memory request (`runpod.io/required-gpu-memory`).
 */
export const TENANT_ANNOTATION_PREFIXES: readonly string[] = ['sim.roam.dev/'];
export const TENANT_ANNOTATION_KEYS: readonly string[] = ['runpod.io/required-gpu-memory'];

/** Whether a tenant may put this annotation on its job's pod. */
export function tenantAnnotationAllowed(key: string): boolean {
  return (
    !key.includes('/') ||
    TENANT_ANNOTATION_KEYS.includes(key) ||
    TENANT_ANNOTATION_PREFIXES.some((prefix) => key.startsWith(prefix))
  );
}

/**
 * Label prefixes that belong to roam, Kubernetes or Kueue (`roam.dev/tenant`, `kueue.x-k8s.io/queue-name`,
 * `app.kubernetes.io/managed-by`): a tenant's label must not pass for one of them.
 */
const RESERVED_LABEL_DOMAINS = ['roam.dev', 'kubernetes.io', 'k8s.io', 'x-k8s.io'];
/**
 * Labels a job may carry though under a reserved domain: the recommended `app.kubernetes.io`
 * ones, and `roam.dev/template`, which templates (the built-in `sumo` too) set to name
 * themselves; it is informational, matched by label selectors only.
 */
const TENANT_APP_LABELS =
  /^(app\.kubernetes\.io\/(name|instance|version|component|part-of)|roam\.dev\/template)$/;

/** Whether a tenant may label its job with this key. */
export function tenantLabelAllowed(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0 || TENANT_APP_LABELS.test(key)) return true;
  const domain = key.slice(0, slash);
  return !RESERVED_LABEL_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`));
}

export const quantity = z
  .union([
    z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as 500m, 2 or 4Gi'),
    z.number().nonnegative(),
  ])
  .transform(String);

/** An accelerator type as GKE labels nodes with it (`nvidia-l4`, `tpu-v5-lite-podslice`). */
const acceleratorType = z
  .string()
  .max(63)
  .regex(
    DNS_LABEL,
    'must be an accelerator type such as nvidia-l4 (lower-case letters, digits, -)',
  );

/** Largest TPU slice a job may ask for, in chips (a v5p 16x16x16 slice). */
export const TPU_MAX_CHIPS = 4096;

/** A TPU topology (`2x4`, `4x4x4`): two or three sides of one or two digits. */
const tpuTopology = z
  .string()
  .regex(/^\d{1,2}(x\d{1,2}){1,2}$/, 'must be a TPU topology such as 2x4 or 4x4x4')
  .refine(
    (topology) => {
      const chips = tpuTopologyChips(topology);
      return chips >= 1 && chips <= TPU_MAX_CHIPS;
    },
    { message: `must have between 1 and ${TPU_MAX_CHIPS} chips` },
  );

/** Chips in a TPU topology: the product of its sides (`2x4` → 8). */
export function tpuTopologyChips(topology: string): number {
  return topology.split('x').reduce((product, side) => product * Number(side), 1);
}

/** GPUs of one accelerator type: `{ count: 8, type: "nvidia-h100-80gb" }`. */
const typedGpu = z
  .object({ count: z.number().int().min(1).max(64), type: acceleratorType })
  .strict();

export const resourcesSchema = z
  .object({
    cpu: quantity.default('100m'),
    memory: quantity.default('128Mi'),
    /** A count of any GPU type, or a count of one type. */
    gpu: z
      .union([z.number().int().min(0).max(64), typedGpu], {
        error:
          'must be a GPU count (0-64) or { count, type } such as { count: 1, type: "nvidia-l4" }',
      })
      .nullish()
      .transform((gpu) => gpu ?? 0),
    /** A TPU slice: accelerator type and topology; its chips are the product of the sides. */
    tpu: z.object({ type: acceleratorType, topology: tpuTopology }).strict().optional(),
  })
  .strict()
  .refine((r) => r.tpu === undefined || r.gpu === 0, {
    message: 'a job asks for GPUs or a TPU slice, not both',
    path: ['tpu'],
  });

export type ResourcesSpec = z.output<typeof resourcesSchema>;

/** The GPUs a spec asks for, whichever form `resources.gpu` has. */
export function gpuCount(resources: { gpu: ResourcesSpec['gpu'] }): number {
  return typeof resources.gpu === 'number' ? resources.gpu : resources.gpu.count;
}

/** The GPU type a spec names, if any. */
export function gpuTypeOf(resources: { gpu: ResourcesSpec['gpu'] }): string | undefined {
  return typeof resources.gpu === 'number' ? undefined : resources.gpu.type;
}

/**
 * Where a job may run by kind of capacity; absent means `any`. `prefer-spot`: on a spot node
 * when one has room at admission, else on an on-demand one (docs/scheduling.md#flavors).
 */
export const capacityType = z.enum(['spot', 'on-demand', 'any', 'prefer-spot']);

/** Failure reasons a retry policy can name (the `Failed/<reason>` values of the job model). */
export const retryReason = z.enum([
  'Error',
  'OOMKilled',
  'Evicted',
  'Lost',
  'DeadlineExceeded',
  'BackoffLimitExceeded',
  'ImagePullBackOff',
]);

/**
 * Retry policy in API form (snake_case, like the rest of the JobSpec). With neither
 * `on_exit_codes` nor `on_reasons` every failure is retried up to `max_attempts`; with either,
 * only matching failures are. Attempt n+1 waits `initial_seconds · factor^(n-1)`, capped.
 */
export const retryPolicySchema = z
  .object({
    max_attempts: z.number().int().min(1).max(100).default(1),
    on_exit_codes: z.array(z.number().int().min(0).max(255)).min(1).max(64).optional(),
    on_reasons: z.array(retryReason).min(1).max(16).optional(),
    backoff: z
      .object({
        initial_seconds: z.number().min(0).max(86_400).default(10),
        factor: z.number().min(1).max(10).default(2),
        max_seconds: z.number().min(0).max(86_400).default(600),
      })
      .strict()
      .refine((b) => b.max_seconds >= b.initial_seconds, {
        message: 'max_seconds must be at least initial_seconds',
        path: ['max_seconds'],
      })
      .default({ initial_seconds: 10, factor: 2, max_seconds: 600 }),
  })
  .strict();
export type RetryPolicyInput = z.input<typeof retryPolicySchema>;
export type RetryPolicySpec = z.output<typeof retryPolicySchema>;

export const offloadPreference = z.enum(['never', 'allowed', 'required']);

/** Most pods one job may ask for (an indexed Job's parallelism, a JobSet's pods all told). */
export const MAX_PODS_PER_JOB = 1000;
/** Most replicated jobs one JobSet-shaped job may have. */
export const MAX_REPLICATED_JOBS = 16;
/**
 * A replicated job's name: a DNS label short enough that `<job>-<name>-<index>-<completion>`
 * pod names stay within Kubernetes' limits.
 */
export const REPLICATED_JOB_NAME_MAX = 20;

const podCount = z.number().int().min(1).max(MAX_PODS_PER_JOB);

/**
 * One named group of pods of a JobSet-shaped job (`driver`, `workers`): `replicas` child Jobs of
 * `parallelism` pods each. Image, command, args and resources default to the job's own.
 */
export const replicatedJobSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(REPLICATED_JOB_NAME_MAX)
      .regex(DNS_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and -'),
    replicas: podCount.default(1),
    parallelism: podCount.optional(),
    completions: podCount.optional(),
    image: z.string().min(1).max(512).optional(),
    command: z.array(z.string().max(4096)).min(1).max(256).optional(),
    args: z.array(z.string().max(4096)).max(256).optional(),
    resources: resourcesSchema.optional(),
  })
  .strict()
  .refine((rj) => rj.completions === undefined || rj.completions >= (rj.parallelism ?? 1), {
    message: 'completions must be at least parallelism',
    path: ['completions'],
  });
export type ReplicatedJobSpec = z.output<typeof replicatedJobSchema>;

/** When a JobSet-shaped job has succeeded: all (or any) of its targets' Jobs completed. */
export const successPolicySchema = z
  .object({
    operator: z.enum(['all', 'any']).default('all'),
    /** Replicated jobs that count; absent means all of them. */
    target_replicated_jobs: z
      .array(z.string().max(REPLICATED_JOB_NAME_MAX))
      .min(1)
      .max(MAX_REPLICATED_JOBS)
      .optional(),
  })
  .strict();

/** How often a failed JobSet is restarted as a whole before the attempt fails. */
export const failurePolicySchema = z
  .object({ max_restarts: z.number().int().min(0).max(100).default(0) })
  .strict();

/**
 * The ROAM JobSpec, as the ROAM job API defines it. Unknown fields are rejected so a typo
 * ("comand") is an error instead of a silently ignored setting.
 */
export const jobSpecSchema = z
  .object({
    name: z
      .string()
      .max(63)
      .regex(DNS_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and -')
      .optional(),
    image: z.string().min(1).max(512),
    command: z.array(z.string().max(4096)).min(1).max(256),
    args: z.array(z.string().max(4096)).max(256).optional(),
    env: z
      .record(
        z.string().regex(ENV_NAME, 'must be a valid environment variable name').max(256),
        z.string().max(32768),
      )
      .optional(),
    resources: resourcesSchema.default({ cpu: '100m', memory: '128Mi', gpu: 0 }),
    /**
     * Spot nodes only, on-demand nodes only, either (absent: either), or spot when a spot node
     * has room and on-demand otherwise (`prefer-spot`).
     */
    capacity: capacityType.optional(),
    queue: z.string().max(63).regex(DNS_LABEL, 'must be a DNS-1123 label').default('user-queue'),
    labels: z
      .record(
        z
          .string()
          .max(253)
          .regex(LABEL_KEY, 'must be a Kubernetes label key')
          .refine(tenantLabelAllowed, {
            message:
              'is reserved for roam, Kubernetes or Kueue (roam.dev/, kubernetes.io/, k8s.io/)',
          }),
        z.string().max(63).regex(LABEL_VALUE, 'must be a Kubernetes label value'),
      )
      .optional(),
    /** Annotations on the job's pod: only the keys `tenantAnnotationAllowed` accepts. */
    annotations: z
      .record(
        z
          .string()
          .max(253)
          .regex(LABEL_KEY, 'must be a Kubernetes annotation key')
          .refine(tenantAnnotationAllowed, {
            message: `is not an annotation a job may set (allowed: keys without a prefix, ${[...TENANT_ANNOTATION_PREFIXES.map((p) => `${p}*`), ...TENANT_ANNOTATION_KEYS].join(', ')})`,
          }),
        z.string().max(65_536),
      )
      .optional(),
    priority: z.number().int().min(-1000).max(1000).default(0),
    /**
     * A named priority (`low` -100, `normal` 0, `high` 100, or one an admin defined); sets
     * `priority` at submit, and an unknown name is a 422 (docs/scheduling.md#borrowing).
     */
    priority_class: z
      .string()
      .max(32)
      .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
        'must be a priority class name (lower-case letters, digits and "-")',
      )
      .optional(),
    /** Wall-clock limit of one attempt (Kubernetes `activeDeadlineSeconds`); default from config. */
    max_duration_seconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 3600)
      .optional(),
    retry_policy: retryPolicySchema.optional(),
    /** Kubernetes objects of a finished job are deleted after this long; roam keeps its record. */
    ttl_seconds_after_finished: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .default(120),
    /** Whether the RunPod offload worker may (or must) run this job off-cluster. */
    offload: offloadPreference.default('never'),
    /** A group the job belongs to: list, watch, summarise and cancel jobs by it. */
    group: groupName.optional(),
    depends_on: dependsOn.optional(),
    on_dependency_failure: onDependencyFailure.optional(),
    /**
     * Put the dependencies' result files under `$ROAM_INPUTS_DIR/deps/<dependency id>/…` (an
     * array's elements under `<array id>/<index>/…`) before the job starts (docs/pipelines.md).
     */
    inputs_from_dependencies: z
      .boolean()
      .optional()
      .describe(
        "Put the dependencies' result files under `$ROAM_INPUTS_DIR/deps/` before the command starts. Needs object storage and `offload: never`: otherwise the submit is a 422 (`dependency-inputs-unavailable`).",
      ),
    /**
     * Pods of one indexed Job (`completionMode: Indexed`) that run at once; each gets its index
     * in `JOB_COMPLETION_INDEX` and `ROAM_REPLICA_INDEX`. Defaults to `completions`.
     */
    parallelism: podCount.optional(),
    /** Indexes the Job must complete; defaults to `parallelism`. */
    completions: podCount.optional(),
    /** A JobSet: named groups of pods (a driver and N workers, several slices). */
    replicated_jobs: z.array(replicatedJobSchema).min(1).max(MAX_REPLICATED_JOBS).optional(),
    success_policy: successPolicySchema.optional(),
    failure_policy: failurePolicySchema.optional(),
    /**
     * A multi-pod job whose pods are not all running this long after admission is taken down
     * and requeued with backoff (not a failure); default from the scheduler's config.
     */
    wait_for_pods_ready_seconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();

export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;
