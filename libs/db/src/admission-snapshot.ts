import type {
  CapacityType,
  JobPlacement,
  OffloadPreference,
  PendingJob,
  PodSet,
  Resources,
  RunningJob,
  TenantState,
} from '@roam/domain';

import type { RawStatements } from './direct-sql.js';
import type { Prisma } from './generated/prisma/client.js';

/** A client, a transaction's client, or a `directSql`/`directTransaction` runner. */
type Db = RawStatements;

/**
 * How many pending jobs one decision reads: each tenant's first `perTenant` in its own queue
 * order, and at most `total` in all. The scheduler's defaults and explain's.
 */
export interface AdmissionWindow {
  perTenant: number;
  total: number;
}

export const DEFAULT_ADMISSION_WINDOW: Readonly<AdmissionWindow> = Object.freeze({
  perTenant: 1000,
  total: 20_000,
});

/**
 * The Postgres half of an admission snapshot. The scheduler decides on it and the gateway's
 * `explain` answers from it: one reading, so the two can never disagree.
 * Ready tenants, with what their admitted or running jobs hold.
 */
export async function tenantStates(db: Db): Promise<TenantState[]> {
  const rows = await db.$queryRaw<
    {
      id: string;
      max_cpu_millis: number;
      max_memory_bytes: bigint;
      max_gpu: number;
      max_gpu_by_type: Prisma.JsonValue;
      max_tpu: number | null;
      max_tpu_by_type: Prisma.JsonValue;
      max_concurrent_jobs: number;
      weight: number;
      cohort: string | null;
      borrow_cpu_millis: number | null;
      borrow_memory_bytes: bigint | null;
      borrow_gpu: number | null;
      count: bigint | null;
      cpu: bigint | null;
      memory: bigint | null;
      gpu: bigint | null;
      gpu_by_type: Prisma.JsonValue;
      tpu: bigint | null;
      tpu_by_type: Prisma.JsonValue;
      min_priority: number | null;
    }[]
  >`
    WITH admitted AS MATERIALIZED (
      -- Read once: the admitted, unfinished jobs every usage below is summed from.
      SELECT tenant_id, cpu_millis, memory_bytes, gpu, gpu_type, tpu_chips, tpu_type, priority
      FROM jobs WHERE admitted_at IS NOT NULL AND status IN ('pending', 'running')
        -- jobs_active_idx's predicate, spelled out so the planner can use that index.
        AND ((status = 'pending' AND (admitted_at IS NOT NULL OR placement IS NOT NULL))
             OR status = 'running')
    )
    SELECT t.id, t.max_cpu_millis, t.max_memory_bytes, t.max_gpu, t.max_gpu_by_type,
           t.max_tpu, t.max_tpu_by_type,
           t.max_concurrent_jobs, t.weight, t.cohort, t.borrow_cpu_millis, t.borrow_memory_bytes,
           t.borrow_gpu, u.count, u.cpu, u.memory, u.gpu, u.tpu, u.min_priority, g.gpu_by_type,
           p.tpu_by_type
    FROM tenants t
    LEFT JOIN (
      SELECT tenant_id, count(*) AS count, sum(cpu_millis) AS cpu, sum(memory_bytes) AS memory,
             sum(gpu) AS gpu, sum(tpu_chips) AS tpu, min(priority) AS min_priority
      FROM admitted GROUP BY tenant_id
    ) u ON u.tenant_id = t.id
    LEFT JOIN (
      SELECT tenant_id, jsonb_object_agg(gpu_type, gpu) AS gpu_by_type
      FROM (
        SELECT tenant_id, gpu_type, sum(gpu) AS gpu
        FROM admitted WHERE gpu_type IS NOT NULL
        GROUP BY tenant_id, gpu_type
      ) typed
      GROUP BY tenant_id
    ) g ON g.tenant_id = t.id
    LEFT JOIN (
      SELECT tenant_id, jsonb_object_agg(tpu_type, tpu) AS tpu_by_type
      FROM (
        SELECT tenant_id, tpu_type, sum(tpu_chips) AS tpu
        FROM admitted WHERE tpu_type IS NOT NULL
        GROUP BY tenant_id, tpu_type
      ) typed
      GROUP BY tenant_id
    ) p ON p.tenant_id = t.id
    WHERE t.status = 'ready'`;
  return rows.map((row) => ({
    id: row.id,
    ...(row.cohort === null
      ? {}
      : {
          cohort: row.cohort,
          borrowingLimit: borrowingLimitOf(row),
        }),
    limits: {
      cpuMillis: row.max_cpu_millis,
      memoryBytes: Number(row.max_memory_bytes),
      gpu: row.max_gpu,
      maxConcurrentJobs: row.max_concurrent_jobs,
    },
    weight: row.weight,
    running: {
      count: Number(row.count ?? 0),
      resources: {
        cpuMillis: Number(row.cpu ?? 0),
        memoryBytes: Number(row.memory ?? 0),
        gpu: Number(row.gpu ?? 0),
        // TPU chips only where the tenant holds any, so resources without TPUs keep three fields.
        ...(Number(row.tpu ?? 0) > 0 ? { tpu: Number(row.tpu) } : {}),
      },
      ...optional('gpuByType', countsByType(row.gpu_by_type)),
      ...optional('tpuByType', countsByType(row.tpu_by_type)),
      ...(row.min_priority === null ? {} : { minPriority: row.min_priority }),
    },
    ...optional('gpuQuotaByType', countsByType(row.max_gpu_by_type)),
    ...(row.max_tpu === null ? {} : { tpuQuota: row.max_tpu }),
    ...optional('tpuQuotaByType', countsByType(row.max_tpu_by_type)),
  }));
}

/** `jobs.pod_sets` as stored: one pod's requests per set. */
interface StoredPodSetJson {
  name: string;
  count: number;
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
  /** A job of several TPU slices: its pods' chips (re-derived from the nodes by `withTpuRequest`). */
  tpu?: number;
  /** How many TPU slices the set is, each on a node pool of its own. */
  slices?: number;
}

const podSetOf = (set: StoredPodSetJson): PodSet => ({
  name: set.name,
  count: set.count,
  resources: { cpuMillis: set.cpuMillis, memoryBytes: set.memoryBytes, gpu: set.gpu },
  ...(typeof set.slices === 'number' && set.slices > 0 ? { slices: set.slices } : {}),
});
/** The per-resource borrowing limit of a cohort member; a null column is no cap. */
function borrowingLimitOf(row: {
  borrow_cpu_millis: number | null;
  borrow_memory_bytes: bigint | null;
  borrow_gpu: number | null;
}): Partial<Resources> {
  const limit: Partial<Resources> = {};
  if (row.borrow_cpu_millis !== null) limit.cpuMillis = row.borrow_cpu_millis;
  if (row.borrow_memory_bytes !== null) limit.memoryBytes = Number(row.borrow_memory_bytes);
  if (row.borrow_gpu !== null) limit.gpu = row.borrow_gpu;
  return limit;
}

/**
 * The admitted, unfinished jobs of ready tenants one by one, by tenant: what `preempt` may
 * choose from. Their number is bounded by the tenants' concurrency limits. Offloaded jobs run
 * elsewhere and hold no cluster quota, so they are never preempted. Each with its attempt, so
 * the scheduler can add the pods of that attempt (`RunningJob.pods`) from its cluster view.
 */
export async function runningJobs(
  db: Db,
): Promise<Map<string, (RunningJob & { attempt: number })[]>> {
  const rows = await db.$queryRaw<
    {
      id: string;
      tenant_id: string;
      priority: number;
      admitted_at: Date;
      cpu_millis: number;
      memory_bytes: bigint;
      gpu: number;
      gpu_type: string | null;
      attempt: number;
    }[]
  >`
    SELECT j.id::text AS id, j.tenant_id, j.priority, j.admitted_at, j.cpu_millis,
           j.memory_bytes, j.gpu, j.gpu_type, j.attempt
    FROM jobs j JOIN tenants t ON t.id = j.tenant_id
    WHERE j.admitted_at IS NOT NULL AND j.status IN ('pending', 'running')
      -- jobs_active_idx's predicate, spelled out so the planner can use that index.
      AND ((j.status = 'pending' AND (j.admitted_at IS NOT NULL OR j.placement IS NOT NULL))
           OR j.status = 'running')
      AND j.reason IS DISTINCT FROM 'Offloaded' AND t.status = 'ready'
    ORDER BY j.tenant_id, j.id`;
  const byTenant = new Map<string, (RunningJob & { attempt: number })[]>();
  for (const row of rows) {
    let jobs = byTenant.get(row.tenant_id);
    if (!jobs) byTenant.set(row.tenant_id, (jobs = []));
    jobs.push({
      id: row.id,
      priority: row.priority,
      admittedAt: row.admitted_at,
      resources: { cpuMillis: row.cpu_millis, memoryBytes: Number(row.memory_bytes), gpu: row.gpu },
      attempt: row.attempt,
      ...(row.gpu_type !== null ? { gpuType: row.gpu_type } : {}),
    });
  }
  return byTenant;
}

/** `{ [key]: value }` when the value is set, `{}` otherwise (the snapshot's optional fields). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** GPUs (or TPU chips) per type from a JSON object; entries that are not whole non-negative numbers are dropped. */
export function countsByType(json: Prisma.JsonValue): Record<string, number> | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const entries = Object.entries(json).filter(
    (entry): entry is [string, number] =>
      typeof entry[1] === 'number' && Number.isInteger(entry[1]) && entry[1] >= 0,
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** The flavor columns of a job row (generated from its spec) as the snapshot's fields. */
interface FlavorColumns {
  gpu_type: string | null;
  capacity: string | null;
  tpu_type: string | null;
  tpu_topology: string | null;
}

const FLAVOR_CAPACITIES: readonly string[] = [
  'spot',
  'on-demand',
  'any',
  'prefer-spot',
] satisfies CapacityType[];

function flavorOf(row: FlavorColumns): Pick<JobPlacement, 'gpuType' | 'capacity' | 'tpu'> {
  return {
    ...(row.gpu_type !== null ? { gpuType: row.gpu_type } : {}),
    ...(row.capacity !== null && FLAVOR_CAPACITIES.includes(row.capacity)
      ? { capacity: row.capacity as CapacityType }
      : {}),
    ...(row.tpu_type !== null && row.tpu_topology !== null
      ? { tpu: { type: row.tpu_type, topology: row.tpu_topology } }
      : {}),
  };
}

/** A pending job with the queue reason it was last given. */
export type QueuedJob = PendingJob & { phase: string; reason: string | null };

/**
 * Jobs waiting for admission (retries once their backoff has passed), of ready tenants: a window
 * per tenant, never one global ranking. A tenant picks its own priorities and its own backlog, so
 * a global `ORDER BY priority` would let one tenant fill the window and hide every other tenant
 * from fair share. Each tenant contributes its first `perTenant` jobs by its own order (priority,
 * then id: ids are UUIDv7, so submission order), read through `jobs_admission_queue_idx`, so a
 * cycle costs at most tenants × `perTenant` rows however deep one backlog is. When `total` cuts,
 * it cuts round-robin: every tenant's first job before anyone's second.
 *
 * An array's `parallelism` P is honoured here, not by the decision: an element is offered only
 * while its index is below (finished elements + P). The bound only grows, so every element ever
 * admitted lies below it, finished ones included; of the f + P indices below it f are finished,
 * so at most P are admitted or running, however many the decision admits in one cycle. The bound is one primary-key read
 * of the array's counters (docs/architecture.md#rule-10).
 *
 * An element of an array whose cancel was requested is never offered: the cancel walk ends it,
 * and the rows the scheduler writes after the request stay `Submitted` until it does.
 *
 * A job waiting for dependencies (`deps_unmet > 0`, on the job or on its whole array) is not
 * offered: `jobs_admission_ready_idx` leads with `deps_unmet`, so such jobs are skipped in the
 * index, with no read per job (docs/architecture.md#rule-11).
 */
export async function pendingJobs(
  db: Db,
  window: AdmissionWindow = DEFAULT_ADMISSION_WINDOW,
): Promise<QueuedJob[]> {
  const rows = await db.$queryRaw<
    ({
      id: string;
      tenant_id: string;
      priority: number;
      created_at: Date;
      retry_at: Date | null;
      cpu_millis: number;
      memory_bytes: bigint;
      gpu: number;
      pod_sets: StoredPodSetJson[] | null;
      queue: string;
      offload_preference: OffloadPreference;
      phase: string;
      reason: string | null;
    } & FlavorColumns)[]
  >`
    SELECT j.id, j.tenant_id, j.priority, j.created_at, j.retry_at, j.cpu_millis,
           j.memory_bytes, j.gpu, j.pod_sets, j.queue, j.offload_preference, j.phase, j.reason,
           j.gpu_type, j.capacity, j.tpu_type, j.tpu_topology
    FROM tenants t
    CROSS JOIN LATERAL (
      SELECT q.id, q.tenant_id, q.priority, q.created_at, q.retry_at, q.cpu_millis,
             q.memory_bytes, q.gpu, q.pod_sets, q.queue, q.offload_preference::text AS offload_preference,
             q.gpu_type, q.capacity, q.tpu_type, q.tpu_topology,
             q.phase, q.reason, row_number() OVER (ORDER BY q.priority DESC, q.id) AS rank
      FROM jobs q
      WHERE q.tenant_id = t.id AND q.status = 'pending' AND q.deps_unmet = 0
        AND q.admitted_at IS NULL AND (q.retry_at IS NULL OR q.retry_at <= now())
        AND (q.array_id IS NULL OR q.array_index < (
          SELECT a.succeeded + a.failed + a.cancelled + coalesce(a.parallelism, a.size)
          FROM job_arrays a
          WHERE a.id = q.array_id AND a.deps_unmet = 0 AND a.cancel_requested_at IS NULL))
      ORDER BY q.priority DESC, q.id
      LIMIT ${window.perTenant}
    ) j
    WHERE t.status = 'ready'
    ORDER BY j.rank, t.id
    LIMIT ${window.total}`;
  return rows.map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    // A retry waits from when it became due, not from its first submission.
    priority: row.priority,
    createdAt: row.retry_at ?? row.created_at,
    // A gang's columns hold the sum over its pods (its quota); its pod sets say how it splits.
    resources: { cpuMillis: row.cpu_millis, memoryBytes: Number(row.memory_bytes), gpu: row.gpu },
    ...(row.pod_sets ? { podSets: row.pod_sets.map(podSetOf) } : {}),
    queue: row.queue,
    offloadPreference: row.offload_preference,
    ...flavorOf(row),
    phase: row.phase,
    reason: row.reason,
  }));
}

/** Where a pending job stands in its tenant's queue, for jobs a window may not reach. */
export interface QueueStanding {
  /** 1-based, in the tenant's queue order (priority, then submission). */
  position: number;
  /** Jobs of the tenant waiting for admission. */
  waiting: number;
  tenantReady: boolean;
}

/**
 * A pending job's place in its tenant's queue, counted through `jobs_admission_queue_idx` (one
 * tenant's range, bounded by its pending cap). Undefined when the job is not waiting for
 * admission.
 */
export async function queueStanding(
  db: Db,
  tenantId: string,
  jobId: string,
): Promise<QueueStanding | undefined> {
  const [row] = await db.$queryRaw<{ ahead: bigint; waiting: bigint; ready: boolean }[]>`
    SELECT
      (SELECT count(*) FROM jobs o
        WHERE o.tenant_id = j.tenant_id AND o.status = 'pending' AND o.admitted_at IS NULL
          AND (o.priority > j.priority OR (o.priority = j.priority AND o.id < j.id))) AS ahead,
      (SELECT count(*) FROM jobs o
        WHERE o.tenant_id = j.tenant_id AND o.status = 'pending' AND o.admitted_at IS NULL) AS waiting,
      t.status = 'ready' AS ready
    FROM jobs j JOIN tenants t ON t.id = j.tenant_id
    WHERE j.id = ${jobId}::uuid AND j.tenant_id = ${tenantId}
      AND j.status = 'pending' AND j.admitted_at IS NULL`;
  if (!row) return undefined;
  return { position: Number(row.ahead) + 1, waiting: Number(row.waiting), tenantReady: row.ready };
}

/**
 * An admitted job Kubernetes may not show on a node yet, with what it will request and the
 * flavor that decides which nodes it may be bound to.
 */
export type InFlightJob = { id: string } & Pick<
  PendingJob,
  'resources' | 'gpuType' | 'capacity' | 'tpu' | 'podSets'
>;

/**
 * Admitted jobs not yet seen running: between admission and the pod being bound, the cluster's
 * pods do not account for them, so admission must ("assumed" pods, as kube-scheduler and Kueue
 * keep them) or it would hand the same room out twice. A gang keeps its pod sets: `withAssumed`
 * places each of its pods the way admission placed it. A `prefer-spot` job is read with the
 * capacity admission chose for it (`admitted_capacity`), so it is assumed on that capacity.
 */
export async function inFlightJobs(db: Db): Promise<InFlightJob[]> {
  const rows = await db.$queryRaw<
    ({
      id: string;
      cpu_millis: number;
      memory_bytes: bigint;
      gpu: number;
      pod_sets: StoredPodSetJson[] | null;
    } & FlavorColumns)[]
  >`
    SELECT id, cpu_millis, memory_bytes, gpu, pod_sets, gpu_type,
           COALESCE(admitted_capacity, capacity) AS capacity, tpu_type, tpu_topology
    FROM jobs
    WHERE status = 'pending' AND admitted_at IS NOT NULL`;
  return rows.map((row) => ({
    id: row.id,
    ...flavorOf(row),
    resources: { cpuMillis: row.cpu_millis, memoryBytes: Number(row.memory_bytes), gpu: row.gpu },
    ...(row.pod_sets ? { podSets: row.pod_sets.map(podSetOf) } : {}),
  }));
}
