import { Inject, Injectable } from '@nestjs/common';
import type { JobSpec, JobStatus } from '@roam/contracts';
import { type Job, type JobHistory, Prisma, type PrismaClient } from '@roam/db';
import type { LabelRequirement, TenantLimits } from '@roam/domain';
import { PRISMA, ProblemError, problemTypes } from '@roam/runtime';

import { labelSelectorSql } from './label-selector.sql.js';

export type JobRow = Job;
export type JobHistoryRow = JobHistory;

export interface NewJob {
  id: string;
  tenantId: string;
  name: string;
  spec: JobSpec;
  cpuMillis: number;
  memoryBytes: number;
  /** The template the spec came from, if any (inputs/results rules live there). */
  templateId?: string;
  /** The job's input archive in object storage (apps/gateway/src/uploads). */
  inputs?: { key: string; bytes: number };
}

export interface JobQuery {
  statuses?: JobStatus[];
  queue?: string;
  labels?: LabelRequirement[];
  createdSince?: Date;
  createdUntil?: Date;
  limit: number;
  /** Id of the last job of the previous page (ids are UUIDv7, so they sort by creation). */
  cursor?: string;
}

const jobColumns = (job: NewJob) => ({
  id: job.id,
  tenantId: job.tenantId,
  name: job.name,
  queue: job.spec.queue,
  priority: job.spec.priority,
  spec: job.spec,
  labels: job.spec.labels ?? {},
  cpuMillis: job.cpuMillis,
  memoryBytes: job.memoryBytes,
  gpu: job.spec.resources.gpu,
  offloadPreference: job.spec.offload,
  maxAttempts: job.spec.retry_policy?.max_attempts ?? 1,
  templateId: job.templateId ?? null,
});

/** Rows for `jsonb_to_recordset`: one jsonb parameter however many jobs (see insertMany). */
function recordsJson(jobs: readonly NewJob[]): string {
  return JSON.stringify(
    jobs.map((job) => {
      const c = jobColumns(job);
      return {
        id: c.id,
        tenant_id: c.tenantId,
        name: c.name,
        queue: c.queue,
        priority: c.priority,
        spec: c.spec,
        labels: c.labels,
        cpu_millis: c.cpuMillis,
        memory_bytes: c.memoryBytes,
        gpu: c.gpu,
        offload_preference: c.offloadPreference,
        max_attempts: c.maxAttempts,
        template_id: c.templateId,
        inputs_key: job.inputs?.key ?? null,
        inputs_bytes: job.inputs?.bytes ?? null,
      };
    }),
  );
}

const RECORD_COLUMNS = Prisma.sql`
  id uuid, tenant_id text, name text, queue text, priority int, spec jsonb, labels jsonb,
  cpu_millis int, memory_bytes bigint, gpu int, offload_preference text, max_attempts int,
  template_id text, inputs_key text, inputs_bytes bigint`;

interface JobRecordRow {
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
  offload_preference: Job['offloadPreference'];
  template_id: string | null;
  attempt: number;
  max_attempts: number;
  retry_at: Date | null;
  placement: Prisma.JsonValue;
  exit_code: number | null;
  seq: number;
  seen_at: Date | null;
  cancel_requested_at: Date | null;
  created_at: Date;
  admitted_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  inputs_key: string | null;
  inputs_bytes: bigint | null;
  cleanup_at: Date | null;
  updated_at: Date;
}

function jobOfRow(row: JobRecordRow): JobRow {
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
    offloadPreference: row.offload_preference,
    templateId: row.template_id,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    retryAt: row.retry_at,
    placement: row.placement,
    exitCode: row.exit_code,
    seq: row.seq,
    seenAt: row.seen_at,
    cancelRequestedAt: row.cancel_requested_at,
    createdAt: row.created_at,
    admittedAt: row.admitted_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    inputsKey: row.inputs_key,
    inputsBytes: row.inputs_bytes,
    cleanupAt: row.cleanup_at,
    updatedAt: row.updated_at,
  };
}

/** Every method takes the tenant id: another tenant's job is simply not found. */
@Injectable()
export class JobsRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  /**
   * Locks the tenant row in share mode for the rest of the transaction, so a deletion (which
   * locks it for update and then counts unfinished jobs) cannot interleave with a submission.
   * Returns the tenant's limits, read under that lock.
   */
  async lockTenantForSubmit(tx: Prisma.TransactionClient, tenantId: string): Promise<TenantLimits> {
    const rows = await tx.$queryRaw<
      {
        status: string;
        max_cpu_millis: number;
        max_memory_bytes: bigint;
        max_gpu: number;
        max_concurrent_jobs: number;
      }[]
    >`SELECT status::text AS status, max_cpu_millis, max_memory_bytes, max_gpu, max_concurrent_jobs
      FROM tenants WHERE id = ${tenantId} FOR SHARE`;
    const tenant = rows[0];
    if (!tenant || tenant.status === 'deleting') {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `tenant "${tenantId}" is being deleted`,
      );
    }
    return {
      cpuMillis: tenant.max_cpu_millis,
      memoryBytes: Number(tenant.max_memory_bytes),
      gpu: tenant.max_gpu,
      maxConcurrentJobs: tenant.max_concurrent_jobs,
    };
  }

  /** Inserts the job and its first history row (seq 1) inside the caller's transaction. */
  async insert(tx: Prisma.TransactionClient, job: NewJob): Promise<JobRow> {
    const columns = jobColumns(job);
    const row = await tx.job.create({
      data: {
        ...columns,
        labels: columns.labels,
        memoryBytes: BigInt(columns.memoryBytes),
        seq: 1,
        ...(job.inputs ? { inputsKey: job.inputs.key, inputsBytes: BigInt(job.inputs.bytes) } : {}),
      },
    });
    await tx.jobHistory.create({
      data: { jobId: job.id, tenantId: job.tenantId, seq: 1, status: row.status, phase: row.phase },
    });
    return row;
  }

  /**
   * Inserts many jobs and their first history rows in ONE statement: the rows travel as a single
   * jsonb parameter and `jsonb_to_recordset` unpacks them server-side, so a batch of 1000 costs
   * one round trip and no per-row parameter binding (Prisma's createMany would bind ~15 000).
   */
  async insertMany(tx: Prisma.TransactionClient, jobs: readonly NewJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const rows = recordsJson(jobs);
    await tx.$executeRaw`
      WITH inserted AS (
        INSERT INTO jobs (id, tenant_id, name, queue, priority, spec, labels, cpu_millis,
                          memory_bytes, gpu, offload_preference, max_attempts, template_id,
                          inputs_key, inputs_bytes, seq, updated_at)
        SELECT r.id, r.tenant_id, r.name, r.queue, r.priority, r.spec, r.labels, r.cpu_millis,
               r.memory_bytes, r.gpu, r.offload_preference::"OffloadPreference", r.max_attempts,
               r.template_id, r.inputs_key, r.inputs_bytes, 1, now()
        FROM jsonb_to_recordset(${rows}::jsonb) AS r(${RECORD_COLUMNS})
        RETURNING id, tenant_id, status, phase
      )
      INSERT INTO job_history (job_id, tenant_id, seq, status, phase)
      SELECT id, tenant_id, 1, status, phase FROM inserted`;
  }
  /**
   * The whole submit in ONE statement (atomic by itself, one round trip): the job, its first
   * history row and its messages, written only if the tenant exists and is not being deleted
   * (its row is share-locked, so a deletion cannot interleave). Undefined when it was not.
   */
  async submitOne(
    job: NewJob,
    messages: (onlyIf: Prisma.Sql) => Prisma.Sql,
  ): Promise<JobRow | undefined> {
    const rows = await this.prisma.$queryRaw<JobRecordRow[]>`
      WITH tenant AS (
        SELECT id FROM tenants WHERE id = ${job.tenantId} AND status <> 'deleting' FOR SHARE
      ), inserted AS (
        INSERT INTO jobs (id, tenant_id, name, queue, priority, spec, labels, cpu_millis,
                          memory_bytes, gpu, offload_preference, max_attempts, template_id,
                          inputs_key, inputs_bytes, seq, updated_at)
        SELECT r.id, r.tenant_id, r.name, r.queue, r.priority, r.spec, r.labels, r.cpu_millis,
               r.memory_bytes, r.gpu, r.offload_preference::"OffloadPreference", r.max_attempts,
               r.template_id, r.inputs_key, r.inputs_bytes, 1, now()
        FROM jsonb_to_recordset(${recordsJson([job])}::jsonb) AS r(${RECORD_COLUMNS}), tenant
        RETURNING *
      ), history AS (
        INSERT INTO job_history (job_id, tenant_id, seq, status, phase)
        SELECT id, tenant_id, 1, status, phase FROM inserted
      ), ${messages(Prisma.sql`EXISTS (SELECT 1 FROM inserted)`)}
      SELECT * FROM inserted`;
    return rows[0] ? jobOfRow(rows[0]) : undefined;
  }

  /** The tenant's limits (for the never-fits check), without locking anything. */
  async limits(tenantId: string): Promise<TenantLimits | undefined> {
    const tenant = await this.prisma.tenant.findUnique({
      where: { id: tenantId },
      select: { maxCpuMillis: true, maxMemoryBytes: true, maxGpu: true, maxConcurrentJobs: true },
    });
    return tenant
      ? {
          cpuMillis: tenant.maxCpuMillis,
          memoryBytes: Number(tenant.maxMemoryBytes),
          gpu: tenant.maxGpu,
          maxConcurrentJobs: tenant.maxConcurrentJobs,
        }
      : undefined;
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
  async history(tenantId: string, id: string): Promise<JobHistoryRow[]> {
    return this.prisma.jobHistory.findMany({
      where: { jobId: id, tenantId },
      orderBy: { seq: 'asc' },
    });
  }

  /**
   * Cancels a pending or running job: a conditional update, so of two concurrent cancels one
   * wins and the other sees the job already cancelled. Returns the new row, or undefined when
   * the job was already finished (it stays as it is).
   */
  async cancel(
    tx: Prisma.TransactionClient,
    tenantId: string,
    id: string,
  ): Promise<JobRow | undefined> {
    const now = new Date();
    const { count } = await tx.job.updateMany({
      where: { id, tenantId, status: { in: ['pending', 'running'] } },
      data: {
        status: 'cancelled',
        phase: 'Cancelled',
        reason: 'CancelledByUser',
        message: 'cancelled through the API',
        cancelRequestedAt: now,
        finishedAt: now,
        seq: { increment: 1 },
      },
    });
    if (count === 0) return undefined;
    const row = await tx.job.findUniqueOrThrow({ where: { id } });
    await tx.jobHistory.create({
      data: {
        jobId: id,
        tenantId,
        seq: row.seq,
        status: row.status,
        phase: row.phase,
        reason: row.reason,
        message: row.message,
      },
    });
    return row;
  }
}
