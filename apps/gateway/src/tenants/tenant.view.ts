import type { Tenant } from '@roam/db';

const GI = 2 ** 30;

/** A tenant as the API shows it: SUMO-K8's field names and units. */
export interface TenantView {
  tenant_id: string;
  namespace: string;
  status: string;
  status_reason: string | null;
  max_cpu: number;
  max_memory_gi: number;
  max_gpu: number;
  /** Set when the GPU quota is per accelerator type; `max_gpu` is then their sum. */
  max_gpu_by_type?: Record<string, number>;
  /** TPU chips, all types together; null: no TPU quota. */
  max_tpu: number | null;
  /** Set when the TPU quota is per TPU type; `max_tpu` is then their sum. */
  max_tpu_by_type?: Record<string, number>;
  max_concurrent_jobs: number;
  rate_limit_per_second: number | null;
  results_retention_days: number | null;
  offload_budget_usd: number | null;
  offload_spend_usd: number;
  weight: number;
  /** docs/scheduling.md#borrowing; null: the limits are a hard cap. */
  cohort: string | null;
  borrowing_limit: { cpu?: number; memory_gi?: number; gpu?: number } | null;
  created_at: string;
  updated_at: string;
}

/** What a tenant's jobs hold of its quota now, in the limits' units. */
export interface TenantUsageView {
  cpu: number;
  memory_gi: number;
  gpu: number;
  /** TPU chips of every type (`jobs.tpu_chips`), against `max_tpu`. */
  tpu: number;
  running_jobs: number;
  pending_jobs: number;
}

export const noUsage: TenantUsageView = {
  cpu: 0,
  memory_gi: 0,
  gpu: 0,
  tpu: 0,
  running_jobs: 0,
  pending_jobs: 0,
};

export function tenantUsageView(row: {
  cpu_millis: number;
  memory_bytes: number;
  gpu: number;
  tpu_chips: number;
  running: number;
  pending: number;
}): TenantUsageView {
  return {
    cpu: row.cpu_millis / 1000,
    memory_gi: row.memory_bytes / GI,
    gpu: row.gpu,
    tpu: row.tpu_chips,
    running_jobs: row.running,
    pending_jobs: row.pending,
  };
}

function isGpuCounts(json: Tenant['maxGpuByType']): json is Record<string, number> {
  return (
    json !== null &&
    typeof json === 'object' &&
    !Array.isArray(json) &&
    Object.values(json).every((n) => typeof n === 'number')
  );
}

const usd = (micros: bigint) => Number(micros) / 1e6;

function borrowingLimitView(tenant: Tenant): TenantView['borrowing_limit'] {
  if (tenant.cohort === null) return null;
  const view: NonNullable<TenantView['borrowing_limit']> = {};
  if (tenant.borrowCpuMillis !== null) view.cpu = tenant.borrowCpuMillis / 1000;
  if (tenant.borrowMemoryBytes !== null) view.memory_gi = Number(tenant.borrowMemoryBytes) / GI;
  if (tenant.borrowGpu !== null) view.gpu = tenant.borrowGpu;
  return view;
}

export function tenantView(tenant: Tenant): TenantView {
  return {
    tenant_id: tenant.id,
    namespace: tenant.namespace,
    status: tenant.status,
    status_reason: tenant.statusReason,
    max_cpu: tenant.maxCpuMillis / 1000,
    max_memory_gi: Number(tenant.maxMemoryBytes) / GI,
    max_gpu: tenant.maxGpu,
    ...(isGpuCounts(tenant.maxGpuByType) ? { max_gpu_by_type: tenant.maxGpuByType } : {}),
    max_tpu: tenant.maxTpu,
    ...(isGpuCounts(tenant.maxTpuByType) ? { max_tpu_by_type: tenant.maxTpuByType } : {}),
    max_concurrent_jobs: tenant.maxConcurrentJobs,
    rate_limit_per_second: tenant.rateLimitPerSecond,
    results_retention_days: tenant.resultsRetentionDays,
    offload_budget_usd:
      tenant.offloadBudgetMicros === null ? null : usd(tenant.offloadBudgetMicros),
    offload_spend_usd: usd(tenant.offloadSpendMicros),
    weight: tenant.weight,
    cohort: tenant.cohort,
    borrowing_limit: borrowingLimitView(tenant),
    created_at: tenant.createdAt.toISOString(),
    updated_at: tenant.updatedAt.toISOString(),
  };
}

export const cpuMillisOf = (cores: number) => Math.round(cores * 1000);
export const memoryBytesOf = (gi: number) => BigInt(Math.round(gi * GI));
export const microsOf = (dollars: number) => BigInt(Math.round(dollars * 1e6));
