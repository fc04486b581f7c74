import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient, type Tenant } from '@roam/db';
import { namespaceFor } from '@roam/domain';
import { PRISMA } from '@roam/runtime';

import type { NewTenant, UpdateTenant } from './tenant.schemas.js';
import { cpuMillisOf, memoryBytesOf, microsOf } from './tenant.view.js';

type Db = Prisma.TransactionClient | PrismaClient;

function limitsData(input: UpdateTenant): Prisma.TenantUpdateInput {
  const data: Prisma.TenantUpdateInput = {};
  if (input.max_cpu !== undefined) data.maxCpuMillis = cpuMillisOf(input.max_cpu);
  if (input.max_memory_gi !== undefined) data.maxMemoryBytes = memoryBytesOf(input.max_memory_gi);
  if (typeof input.max_gpu === 'number') {
    data.maxGpu = input.max_gpu;
    data.maxGpuByType = Prisma.DbNull;
  } else if (input.max_gpu !== undefined) {
    data.maxGpu = Object.values(input.max_gpu).reduce((sum, n) => sum + n, 0);
    data.maxGpuByType = input.max_gpu;
  }
  if (input.max_tpu === null || typeof input.max_tpu === 'number') {
    data.maxTpu = input.max_tpu;
    data.maxTpuByType = Prisma.DbNull;
  } else if (input.max_tpu !== undefined) {
    data.maxTpu = Object.values(input.max_tpu).reduce((sum, n) => sum + n, 0);
    data.maxTpuByType = input.max_tpu;
  }
  if (input.max_concurrent_jobs !== undefined) data.maxConcurrentJobs = input.max_concurrent_jobs;
  if (input.rate_limit_per_second !== undefined) {
    data.rateLimitPerSecond =
      input.rate_limit_per_second === null ? null : Math.ceil(input.rate_limit_per_second);
  }
  if (input.results_retention_days !== undefined)
    data.resultsRetentionDays = input.results_retention_days;
  if (input.offload_budget_usd !== undefined) {
    data.offloadBudgetMicros =
      input.offload_budget_usd === null ? null : microsOf(input.offload_budget_usd);
  }
  if (input.weight !== undefined) data.weight = input.weight;
  if (input.cohort !== undefined) data.cohort = input.cohort;
  if (input.borrowing_limit !== undefined) {
    const limit = input.borrowing_limit;
    data.borrowCpuMillis = limit?.cpu === undefined ? null : cpuMillisOf(limit.cpu);
    data.borrowMemoryBytes = limit?.memory_gi === undefined ? null : memoryBytesOf(limit.memory_gi);
    data.borrowGpu = limit?.gpu ?? null;
  }
  return data;
}

export interface UsageRow {
  tenant_id: string;
  cpu_millis: number;
  memory_bytes: number;
  gpu: number;
  tpu_chips: number;
  running: number;
  pending: number;
}

@Injectable()
export class TenantsRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  create(db: Db, input: NewTenant): Promise<Tenant> {
    return db.tenant.create({
      data: {
        id: input.tenant_id,
        namespace: namespaceFor(input.tenant_id),
        maxCpuMillis: cpuMillisOf(input.max_cpu),
        maxMemoryBytes: memoryBytesOf(input.max_memory_gi),
        maxGpu: input.max_gpu,
        maxConcurrentJobs: input.max_concurrent_jobs,
        rateLimitPerSecond:
          input.rate_limit_per_second === null ? null : Math.ceil(input.rate_limit_per_second),
        resultsRetentionDays: input.results_retention_days,
        offloadBudgetMicros:
          input.offload_budget_usd === null ? null : microsOf(input.offload_budget_usd),
        weight: input.weight,
      },
    });
  }

  find(id: string): Promise<Tenant | null> {
    return this.prisma.tenant.findUnique({ where: { id } });
  }

  list(limit: number, cursor?: string): Promise<Tenant[]> {
    return this.prisma.tenant.findMany({
      where: cursor ? { id: { gt: cursor } } : {},
      orderBy: { id: 'asc' },
      take: limit,
    });
  }

  /**
   * What each of `ids` holds now (admitted, unfinished jobs) and how many of its jobs wait: one
   * grouped read over the unfinished jobs of those tenants, whatever their number.
   */
  usage(ids: string[]): Promise<UsageRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.$queryRaw<UsageRow[]>`
      SELECT tenant_id,
        coalesce(sum(cpu_millis) FILTER (WHERE admitted_at IS NOT NULL), 0)::int AS cpu_millis,
        coalesce(sum(memory_bytes) FILTER (WHERE admitted_at IS NOT NULL), 0)::float8 AS memory_bytes,
        coalesce(sum(gpu) FILTER (WHERE admitted_at IS NOT NULL), 0)::int AS gpu,
        coalesce(sum(tpu_chips) FILTER (WHERE admitted_at IS NOT NULL), 0)::int AS tpu_chips,
        count(*) FILTER (WHERE admitted_at IS NOT NULL)::int AS running,
        count(*) FILTER (WHERE admitted_at IS NULL)::int AS pending
      FROM jobs
      WHERE tenant_id = ANY(${ids}) AND status IN ('pending', 'running')
      GROUP BY tenant_id`;
  }

  /** The members of these cohorts (their namespaces' quotas follow the cohort's pool). */
  async cohortMembers(db: Db, cohorts: readonly string[]): Promise<string[]> {
    if (cohorts.length === 0) return [];
    const rows = await db.tenant.findMany({
      where: { cohort: { in: [...cohorts] }, status: { not: 'deleting' } },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    return rows.map((row) => row.id);
  }

  /** Bumps `generation` so the scheduler re-provisions the tenant's quota. */
  async touch(db: Db, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await db.tenant.updateMany({
      where: { id: { in: [...ids] } },
      data: { generation: { increment: 1 } },
    });
  }

  /** Applies new limits and bumps `generation` so the scheduler re-provisions the quota. */
  update(db: Db, id: string, input: UpdateTenant): Promise<Tenant> {
    return db.tenant.update({
      where: { id },
      data: {
        ...limitsData(input),
        generation: { increment: 1 },
        status: 'provisioning',
        statusReason: null,
      },
    });
  }

  /** Locks the tenant row; used so a deletion and a job submission never interleave. */
  async lock(db: Prisma.TransactionClient, id: string): Promise<{ status: string } | undefined> {
    const rows = await db.$queryRaw<
      { status: string }[]
    >`SELECT status::text AS status FROM tenants WHERE id = ${id} FOR UPDATE`;
    return rows[0];
  }

  countUnfinishedJobs(db: Db, tenantId: string): Promise<number> {
    return db.job.count({ where: { tenantId, status: { in: ['pending', 'running'] } } });
  }

  markDeleting(db: Db, id: string): Promise<Tenant> {
    return db.tenant.update({
      where: { id },
      data: { status: 'deleting', statusReason: 'deletion requested' },
    });
  }
}
