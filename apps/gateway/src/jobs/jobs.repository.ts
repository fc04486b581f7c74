import { Inject, Injectable } from '@nestjs/common';
import { gpuCount, type JobSpec, type JobStatus } from '@roam/contracts';
import {
  countsByType,
  directSql,
  type Job,
  type JobHistory,
  Prisma,
  type PrismaClient,
  type RawStatements,
} from '@roam/db';
import { jobStateOf, type LabelRequirement, type TenantLimits } from '@roam/domain';
import type { LedgerJob, NewJobRecord, StoredPodSet } from '@roam/jobs';
import { PRISMA, ProblemError, problemTypes } from '@roam/runtime';

import { labelSelectorSql } from './label-selector.sql.js';

/**
 * A job row; its flavor columns are left out, since the spec they are generated from is in it,
 * and so is `seen_at`, which nothing writes any more.
 */
export type JobRow = Omit<
  Job,
  | 'gpuType'
  | 'capacity'
  | 'tpuType'
  | 'tpuTopology'
  | 'tpuChips'
  | 'admittedCapacity'
  | 'admittedPools'
  | 'seenAt'
>;
export type JobHistoryRow = JobHistory;

export interface NewJob {
  id: string;
  tenantId: string;
  name: string;
  spec: JobSpec;
  cpuMillis: number;
  memoryBytes: number;
  /** A multi-pod job's GPUs over every pod (default: the spec's one pod's). */
  gpu?: number;
  /** A multi-pod job's pod sets; the requests above are then the whole gang's. */
  podSets?: StoredPodSet[];
  /** The template the spec came from, if any (inputs/results rules live there). */
  templateId?: string;
  /** The job's input archive in object storage (apps/gateway/src/uploads). */
  inputs?: { key: string; bytes: number };
}

export interface JobQuery {
  statuses?: JobStatus[];
  queue?: string;
  group?: string;
  arrayId?: string;
  labels?: LabelRequirement[];
  createdSince?: Date;
  createdUntil?: Date;
  limit: number;
  /** Id of the last job of the previous page (ids are UUIDv7, so they sort by creation). */
  cursor?: string;
}

/**
 * The most a tenant may ever hold, which is what "can it ever run" is checked against: its
 * quota, or for a cohort member its guarantee plus borrowing limit within the cohort's pool
 * (docs/scheduling.md#borrowing). Bigint arithmetic: an absent borrowing limit is no cap.
 */
const CEILINGS = Prisma.sql`
  (SELECT CASE WHEN t.cohort IS NULL THEN t.max_cpu_millis::bigint
    ELSE LEAST(t.max_cpu_millis::bigint + coalesce(t.borrow_cpu_millis::bigint, sum(c.max_cpu_millis)), sum(c.max_cpu_millis)) END
   FROM tenants c WHERE c.id = t.id OR c.cohort = t.cohort) AS max_cpu_millis,
  (SELECT CASE WHEN t.cohort IS NULL THEN t.max_memory_bytes::numeric
    ELSE LEAST(t.max_memory_bytes::numeric + coalesce(t.borrow_memory_bytes::numeric, sum(c.max_memory_bytes)), sum(c.max_memory_bytes)) END
   FROM tenants c WHERE c.id = t.id OR c.cohort = t.cohort)::bigint AS max_memory_bytes,
  (SELECT CASE WHEN t.cohort IS NULL THEN t.max_gpu::bigint
    ELSE LEAST(t.max_gpu::bigint + coalesce(t.borrow_gpu::bigint, sum(c.max_gpu)), sum(c.max_gpu)) END
   FROM tenants c WHERE c.id = t.id OR c.cohort = t.cohort) AS max_gpu,
  t.max_concurrent_jobs, t.max_tpu, t.max_tpu_by_type`;

interface CeilingRow {
  max_tpu: number | null;
  max_tpu_by_type: Prisma.JsonValue;
  max_cpu_millis: bigint;
  max_memory_bytes: bigint;
  max_gpu: bigint;
  max_concurrent_jobs: number;
}

/** What a submit is checked against: the ceilings, and the TPU quota (chips; none if absent). */
export interface SubmitLimits extends TenantLimits {
  tpuQuota?: number;
  tpuQuotaByType?: Record<string, number>;
}

const limitsOfCeilings = (row: CeilingRow): SubmitLimits => {
  const byType = countsByType(row.max_tpu_by_type);
  return {
    cpuMillis: Number(row.max_cpu_millis),
    memoryBytes: Number(row.max_memory_bytes),
    gpu: Number(row.max_gpu),
    maxConcurrentJobs: row.max_concurrent_jobs,
    ...(row.max_tpu === null ? {} : { tpuQuota: row.max_tpu }),
    ...(byType ? { tpuQuotaByType: byType } : {}),
  };
};

/** The ledger's record of a new job (its state is always Submitted at seq 1). */
export function newJobRecord(job: NewJob): NewJobRecord {
  return {
    id: job.id,
    tenantId: job.tenantId,
    name: job.name,
    queue: job.spec.queue,
    priority: job.spec.priority,
    spec: job.spec,
    labels: job.spec.labels ?? {},
    cpuMillis: job.cpuMillis,
    memoryBytes: job.memoryBytes,
    gpu: job.gpu ?? gpuCount(job.spec.resources),
    podSets: job.podSets ?? null,
    offloadPreference: job.spec.offload,
    maxAttempts: job.spec.retry_policy?.max_attempts ?? 1,
    templateId: job.templateId ?? null,
    inputsKey: job.inputs?.key ?? null,
    inputsBytes: job.inputs?.bytes ?? null,
    group: job.spec.group ?? null,
  };
}

/** A job row as the ledger's submit returns it (its `JOB_ROW_COLUMNS`). */
export interface JobRecordRow {
  id: string;
  tenant_id: string;
  name: string;
  queue: string;
  status: Job['status'];
  phase: string;
  reason: string | null;
  message: string | null;
  priority: number;
  spec: Prisma.JsonValue;
  labels: Prisma.JsonValue;
  cpu_millis: number;
  memory_bytes: bigint;
  gpu: number;
  pod_sets: Prisma.JsonValue;
  offload_preference: Job['offloadPreference'];
  template_id: string | null;
  attempt: number;
  preemptions: number;
  max_attempts: number;
  requeues: number;
  restarts: number;
  attempt_restarts: number;
  restarts_attempt: number | null;
  retry_at: Date | null;
  placement: Prisma.JsonValue;
  exit_code: number | null;
  seq: number;
  cancel_requested_at: Date | null;
  created_at: Date;
  admitted_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  inputs_key: string | null;
  inputs_bytes: bigint | null;
  cleanup_at: Date | null;
  group_name: string | null;
  array_id: string | null;
  array_index: number | null;
  deps_unmet: number;
  updated_at: Date;
}

export function jobOfRow(row: JobRecordRow): JobRow {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    queue: row.queue,
    status: row.status,
    phase: row.phase,
    reason: row.reason,
    message: row.message,
    priority: row.priority,
    spec: row.spec,
    labels: row.labels,
    cpuMillis: row.cpu_millis,
    memoryBytes: row.memory_bytes,
    gpu: row.gpu,
    podSets: row.pod_sets,
    offloadPreference: row.offload_preference,
    templateId: row.template_id,
    attempt: row.attempt,
    preemptions: row.preemptions,
    restarts: row.restarts,
    attemptRestarts: row.attempt_restarts,
    restartsAttempt: row.restarts_attempt,
    maxAttempts: row.max_attempts,
    requeues: row.requeues,
    retryAt: row.retry_at,
    placement: row.placement,
    exitCode: row.exit_code,
    seq: row.seq,
    cancelRequestedAt: row.cancel_requested_at,
    createdAt: row.created_at,
    admittedAt: row.admitted_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    inputsKey: row.inputs_key,
    inputsBytes: row.inputs_bytes,
    cleanupAt: row.cleanup_at,
    groupName: row.group_name,
    arrayId: row.array_id,
    arrayIndex: row.array_index,
    depsUnmet: row.deps_unmet,
    updatedAt: row.updated_at,
  };
}

/** Every method takes the tenant id: another tenant's job is simply not found. */
@Injectable()
export class JobsRepository {
  /** Statements that stand alone, outside Prisma's pipeline (docs/architecture.md#direct-sql). */
  readonly sql: RawStatements;

  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {
    this.sql = directSql(prisma);
  }

  /**
   * Locks the tenant row in share mode for the rest of the transaction, so a deletion (which
   * locks it for update and then counts unfinished jobs) cannot interleave with a submission.
   * Returns the tenant's limits, read under that lock.
   */
  async lockTenantForSubmit(tx: RawStatements, tenantId: string): Promise<SubmitLimits> {
    const rows = await tx.$queryRaw<(CeilingRow & { status: string })[]>`
      SELECT status::text AS status, ${CEILINGS}
      FROM tenants t WHERE id = ${tenantId} FOR SHARE`;
    const tenant = rows[0];
    if (!tenant || tenant.status === 'deleting') {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `tenant "${tenantId}" is being deleted`,
      );
    }
    return limitsOfCeilings(tenant);
  }

  /** The tenant's limits (for the never-fits check), without locking anything. */
  async limits(tenantId: string): Promise<SubmitLimits | undefined> {
    const rows = await this.prisma.$queryRaw<CeilingRow[]>`
      SELECT ${CEILINGS} FROM tenants t WHERE id = ${tenantId}`;
    return rows[0] ? limitsOfCeilings(rows[0]) : undefined;
  }

  find(tenantId: string, id: string): Promise<JobRow | null> {
    return this.prisma.job.findFirst({ where: { id, tenantId } });
  }

  /**
   * Newest first, keyset-paged on the id. The filter runs as SQL (labels over the jsonb column),
   * selecting ids only; the rows are then read by primary key.
   */
  async list(tenantId: string, query: JobQuery): Promise<JobRow[]> {
    const where: Prisma.Sql[] = [Prisma.sql`tenant_id = ${tenantId}`];
    if (query.statuses?.length) {
      where.push(Prisma.sql`status::text IN (${Prisma.join(query.statuses)})`);
    }
    if (query.queue !== undefined) where.push(Prisma.sql`queue = ${query.queue}`);
    if (query.group !== undefined) where.push(Prisma.sql`group_name = ${query.group}`);
    if (query.arrayId !== undefined) where.push(Prisma.sql`array_id = ${query.arrayId}::uuid`);
    if (query.createdSince) where.push(Prisma.sql`created_at >= ${query.createdSince}`);
    if (query.createdUntil) where.push(Prisma.sql`created_at < ${query.createdUntil}`);
    if (query.cursor !== undefined) where.push(Prisma.sql`id < ${query.cursor}::uuid`);
    if (query.labels?.length) where.push(labelSelectorSql(query.labels));
    const ids = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM jobs
      WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY id DESC
      LIMIT ${query.limit}`;
    if (ids.length === 0) return [];
    return this.prisma.job.findMany({
      where: { id: { in: ids.map((row) => row.id) }, tenantId },
      orderBy: { id: 'desc' },
    });
  }

  /** The job's transitions in order (empty for another tenant's job). */
  /** The job's most recent preemption (its history row), if it was ever preempted. */
  async lastPreemption(tenantId: string, id: string): Promise<JobHistoryRow | null> {
    return this.prisma.jobHistory.findFirst({
      where: { jobId: id, tenantId, phase: 'Queued', reason: 'Preempted' },
      orderBy: { seq: 'desc' },
    });
  }

  async history(tenantId: string, id: string): Promise<JobHistoryRow[]> {
    return this.prisma.jobHistory.findMany({
      where: { jobId: id, tenantId },
      orderBy: { seq: 'asc' },
    });
  }

  /**
   * The job as the ledger needs it, its row locked for the rest of the transaction (so the
   * change the caller makes from it cannot lose a race). Undefined for another tenant's job.
   */
  async lockForChange(
    tx: Prisma.TransactionClient,
    tenantId: string,
    id: string,
  ): Promise<LedgerJob | undefined> {
    const [row] = await tx.$queryRaw<
      {
        id: string;
        tenant_id: string;
        name: string;
        attempt: number;
        seq: number;
        status: string;
        phase: string;
        reason: string | null;
        message: string | null;
        placement: Record<string, unknown> | null;
      }[]
    >`SELECT id::text AS id, tenant_id, name, attempt, seq, status::text AS status, phase, reason,
             message, placement
      FROM jobs WHERE id = ${id}::uuid AND tenant_id = ${tenantId} FOR UPDATE`;
    if (!row) return undefined;
    return {
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      attempt: row.attempt,
      seq: row.seq,
      state: jobStateOf(row),
      placement: row.placement,
    };
  }
}
