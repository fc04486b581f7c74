import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/** `buckets` windows of `stepMs` ending at `until`, as SQL rows (i, b_start, b_end). */
export interface Window {
  until: Date;
  stepMs: number;
  buckets: number;
}

const bucketsSql = (window: Window) => Prisma.sql`
  SELECT i,
         ${window.until}::timestamptz - (${window.buckets} - i + 1) * ${window.stepMs} * interval '1 millisecond' AS b_start,
         ${window.until}::timestamptz - (${window.buckets} - i) * ${window.stepMs} * interval '1 millisecond' AS b_end
  FROM generate_series(1, ${window.buckets}) AS i`;

/** Created before the bucket's end and neither admitted nor finished by then. */
const waitingAt = Prisma.sql`j.created_at < b.b_end
  AND (j.admitted_at IS NULL OR j.admitted_at >= b.b_end)
  AND (j.finished_at IS NULL OR j.finished_at >= b.b_end)`;

/** Admitted before the bucket's end and not finished by then: holding its share of the quota. */
const heldAt = Prisma.sql`j.admitted_at < b.b_end AND (j.finished_at IS NULL OR j.finished_at >= b.b_end)`;

export interface UsagePointRow {
  i: number;
  submitted: number;
  finished: number;
  pending: number;
  running: number;
  cpu_millis: number;
  memory_bytes: number;
  gpu: number;
}

export interface PendingPointRow {
  i: number;
  tenant_id: string;
  pending: number;
  admitted: number;
}

export interface HolderRow {
  tenant_id: string;
  weight: number;
  cpu_millis: number;
  memory_bytes: number;
  gpu: number;
  waiting: number;
}

/**
 * Time series derived from the jobs' own timestamps (created, admitted, finished) and the
 * offload tables: read-only, each query bounded by its window and bucket count. Only jobs that
 * overlap the window are joined, through the (tenant_id, created_at) and status indexes.
 */
@Injectable()
export class InsightsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** One tenant's jobs per bucket: flows during it, and what was waiting or held at its end. */
  usage(tenantId: string, window: Window): Promise<UsagePointRow[]> {
    return this.prisma.$queryRaw<UsagePointRow[]>`
      WITH b AS (${bucketsSql(window)})
      SELECT b.i,
        count(j.id) FILTER (WHERE j.created_at >= b.b_start)::int AS submitted,
        count(j.id) FILTER (WHERE j.finished_at >= b.b_start AND j.finished_at < b.b_end)::int AS finished,
        count(j.id) FILTER (WHERE ${waitingAt}) ::int AS pending,
        count(j.id) FILTER (WHERE ${heldAt})::int AS running,
        coalesce(sum(j.cpu_millis) FILTER (WHERE ${heldAt}), 0)::int AS cpu_millis,
        coalesce(sum(j.memory_bytes) FILTER (WHERE ${heldAt}), 0)::float8 AS memory_bytes,
        coalesce(sum(j.gpu) FILTER (WHERE ${heldAt}), 0)::int AS gpu
      FROM b
      LEFT JOIN jobs j
        ON j.tenant_id = ${tenantId}
        AND j.created_at < b.b_end
        AND (j.finished_at IS NULL OR j.finished_at >= b.b_start)
      GROUP BY b.i
      ORDER BY b.i`;
  }

  /**
   * Offload cost charged after each bucket's end: a pod's cost is added to the tenant's spend
   * when it ends, so the spend at an instant is today's total less what ended since. Only the
   * tenant's pods that ended inside the window are read.
   */
  spendAfter(tenantId: string, window: Window): Promise<{ i: number; later: number }[]> {
    return this.prisma.$queryRaw<{ i: number; later: number }[]>`
      WITH b AS (${bucketsSql(window)})
      SELECT b.i, coalesce(sum(o.cost_micros), 0)::float8 AS later
      FROM b
      LEFT JOIN offloads o
        ON o.tenant_id = ${tenantId}
        AND o.ended_at >= b.b_end
        AND o.cost_micros > 0
      GROUP BY b.i
      ORDER BY b.i`;
  }

  /** Every tenant's waiting jobs per bucket, and admissions during it. */
  pending(window: Window): Promise<PendingPointRow[]> {
    return this.prisma.$queryRaw<PendingPointRow[]>`
      WITH b AS (${bucketsSql(window)})
      SELECT b.i, j.tenant_id,
        count(*) FILTER (WHERE ${waitingAt})::int AS pending,
        count(*) FILTER (WHERE j.admitted_at >= b.b_start AND j.admitted_at < b.b_end)::int AS admitted
      FROM b
      JOIN jobs j
        ON j.created_at < b.b_end
        AND (j.admitted_at IS NULL OR j.admitted_at >= b.b_start)
        AND (j.finished_at IS NULL OR j.finished_at >= b.b_start)
      GROUP BY b.i, j.tenant_id`;
  }

  /** Tenants with jobs waiting now, longest wait first. */
  oldestWaiting(limit: number) {
    return this.prisma.$queryRaw<{ tenant_id: string; waiting: number; oldest: Date }[]>`
      SELECT tenant_id, count(*)::int AS waiting, min(created_at) AS oldest
      FROM jobs
      WHERE status = 'pending' AND admitted_at IS NULL
      GROUP BY tenant_id
      ORDER BY oldest
      LIMIT ${limit}`;
  }

  /** What each tenant holds now (admitted, unfinished jobs) and how many of its jobs wait. */
  holders(): Promise<HolderRow[]> {
    return this.prisma.$queryRaw<HolderRow[]>`
      SELECT t.id AS tenant_id, t.weight,
        coalesce(sum(j.cpu_millis) FILTER (WHERE j.admitted_at IS NOT NULL), 0)::int AS cpu_millis,
        coalesce(sum(j.memory_bytes) FILTER (WHERE j.admitted_at IS NOT NULL), 0)::float8 AS memory_bytes,
        coalesce(sum(j.gpu) FILTER (WHERE j.admitted_at IS NOT NULL), 0)::int AS gpu,
        count(j.id) FILTER (WHERE j.admitted_at IS NULL)::int AS waiting
      FROM tenants t
      JOIN jobs j ON j.tenant_id = t.id AND j.status IN ('pending', 'running')
      GROUP BY t.id, t.weight`;
  }

  limits(tenantId: string) {
    return this.prisma.tenant.findUniqueOrThrow({
      where: { id: tenantId },
      select: {
        maxCpuMillis: true,
        maxMemoryBytes: true,
        maxGpu: true,
        maxConcurrentJobs: true,
        offloadBudgetMicros: true,
        offloadSpendMicros: true,
      },
    });
  }

  /** The most recent offloads, live ones first. */
  pods(limit: number) {
    return this.prisma.$queryRaw<
      {
        id: string;
        tenant_id: string | null;
        job_id: string | null;
        runpod_pod_id: string | null;
        gpu_type: string;
        data_center: string | null;
        state: 'creating' | 'running' | 'succeeded' | 'failed' | 'terminated';
        price_per_hour_micros: bigint;
        cost_micros: bigint;
        created_at: Date;
        ended_at: Date | null;
      }[]
    >`
      SELECT id::text AS id, tenant_id, job_id::text AS job_id, runpod_pod_id, gpu_type, data_center,
        state::text AS state, price_per_hour_micros, cost_micros, created_at, ended_at
      FROM offloads
      ORDER BY (state IN ('creating', 'running')) DESC, created_at DESC
      LIMIT ${limit}`;
  }

  /** Hourly prices pods were created at since `since`, per GPU type. */
  prices(since: Date) {
    return this.prisma.$queryRaw<
      { gpu_type: string; pods: number; last: bigint; min: bigint; max: bigint }[]
    >`
      SELECT gpu_type, count(*)::int AS pods,
        (array_agg(price_per_hour_micros ORDER BY created_at DESC))[1] AS last,
        min(price_per_hour_micros) AS min, max(price_per_hour_micros) AS max
      FROM offloads
      WHERE created_at >= ${since}
      GROUP BY gpu_type
      ORDER BY gpu_type`;
  }

  /** Tenants with offload spend, a budget above zero or a pod; most spend first. */
  spend(limit: number) {
    return this.prisma.$queryRaw<
      { tenant_id: string; spend: bigint; budget: bigint | null; running_pods: number }[]
    >`
      SELECT t.id AS tenant_id, t.offload_spend_micros AS spend, t.offload_budget_micros AS budget,
        count(o.id) FILTER (WHERE o.state IN ('creating', 'running'))::int AS running_pods
      FROM tenants t
      LEFT JOIN offloads o ON o.tenant_id = t.id
      GROUP BY t.id
      HAVING t.offload_spend_micros > 0 OR t.offload_budget_micros > 0 OR count(o.id) > 0
      ORDER BY t.offload_spend_micros DESC, t.id
      LIMIT ${limit}`;
  }
}
