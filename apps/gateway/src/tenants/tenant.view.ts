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
  max_concurrent_jobs: number;
  rate_limit_per_second: number | null;
  results_retention_days: number | null;
  offload_budget_usd: number | null;
  offload_spend_usd: number;
  weight: number;
  created_at: string;
  updated_at: string;
}

const usd = (micros: bigint) => Number(micros) / 1e6;

export function tenantView(tenant: Tenant): TenantView {
  return {
    tenant_id: tenant.id,
    namespace: tenant.namespace,
    status: tenant.status,
    status_reason: tenant.statusReason,
    max_cpu: tenant.maxCpuMillis / 1000,
    max_memory_gi: Number(tenant.maxMemoryBytes) / GI,
    max_gpu: tenant.maxGpu,
    max_concurrent_jobs: tenant.maxConcurrentJobs,
    rate_limit_per_second: tenant.rateLimitPerSecond,
    results_retention_days: tenant.resultsRetentionDays,
    offload_budget_usd:
      tenant.offloadBudgetMicros === null ? null : usd(tenant.offloadBudgetMicros),
    offload_spend_usd: usd(tenant.offloadSpendMicros),
    weight: tenant.weight,
    created_at: tenant.createdAt.toISOString(),
    updated_at: tenant.updatedAt.toISOString(),
  };
}

export const cpuMillisOf = (cores: number) => Math.round(cores * 1000);
export const memoryBytesOf = (gi: number) => BigInt(Math.round(gi * GI));
export const microsOf = (dollars: number) => BigInt(Math.round(dollars * 1e6));
