import { tenantIdProblem } from '@roam/domain';
import { z } from 'zod';

const tenantId = z.string().superRefine((id, context) => {
  const problem = tenantIdProblem(id);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** Limits in SUMO-K8's units (cores, GiB); stored as millicores and bytes. */
const limits = {
  max_cpu: z.number().positive().max(100_000),
  max_memory_gi: z.number().positive().max(1_000_000),
  max_gpu: z.number().int().min(0).max(10_000),
  max_concurrent_jobs: z.number().int().min(1).max(100_000),
  rate_limit_per_second: z.number().positive().max(100_000).nullable(),
  results_retention_days: z.number().int().min(1).max(3650).nullable(),
  offload_budget_usd: z.number().min(0).max(10_000_000).nullable(),
  weight: z.number().int().min(1).max(1000),
  /** docs/scheduling.md#borrowing: the limits become a guarantee shared with the cohort. */
  cohort: z
    .string()
    .min(1)
    .max(63)
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit',
    )
    .nullable(),
  borrowing_limit: z
    .object({
      cpu: z.number().min(0).max(100_000).optional(),
      memory_gi: z.number().min(0).max(1_000_000).optional(),
      gpu: z.number().int().min(0).max(10_000).optional(),
    })
    .strict()
    .nullable()
    .describe(
      'How far beyond its guarantee a cohort member may borrow, per resource; a resource left out (or null for all) may borrow whatever the cohort has idle.',
    ),
};

/**
 * `POST /auth/register` (SUMO-K8 body) and `POST /api/v1/tenants`. Unset limits are filled in by
 * `TenantsService`: SUMO-K8's defaults for an admin, the operator's ceilings for open
 * registration (where the body may only lower them).
 */
export const registerTenantSchema = z
  .object({
    tenant_id: tenantId,
    max_cpu: limits.max_cpu.optional(),
    max_memory_gi: limits.max_memory_gi.optional(),
    max_gpu: limits.max_gpu.optional(),
    max_concurrent_jobs: limits.max_concurrent_jobs.optional(),
    rate_limit_per_second: limits.rate_limit_per_second.optional(),
    results_retention_days: limits.results_retention_days.optional(),
    offload_budget_usd: limits.offload_budget_usd.optional(),
    weight: limits.weight.optional(),
  })
  .strict();
export type RegisterTenant = z.output<typeof registerTenantSchema>;

/** What a new tenant gets once the defaults and ceilings are applied. */
export interface NewTenant {
  tenant_id: string;
  max_cpu: number;
  max_memory_gi: number;
  max_gpu: number;
  max_concurrent_jobs: number;
  rate_limit_per_second: number | null;
  results_retention_days: number | null;
  offload_budget_usd: number | null;
  weight: number;
}

/** Accelerator types a tenant's GPU quota may name, at most. */
export const MAX_GPU_TYPES = 32;

/**
 * GPUs per accelerator type (`{ "nvidia-l4": 16, "nvidia-h100-80gb": 8 }`): the tenant's GPU
 * quota is their sum, and each type is capped at its own count (docs/scheduling.md#flavors).
 */
const gpuQuotaByType = z
  .record(
    z
      .string()
      .max(63)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an accelerator type such as nvidia-l4'),
    limits.max_gpu,
  )
  .refine((types) => Object.keys(types).length >= 1 && Object.keys(types).length <= MAX_GPU_TYPES, {
    message: `must name between 1 and ${MAX_GPU_TYPES} accelerator types`,
  })
  .refine((types) => Object.values(types).reduce((sum, n) => sum + n, 0) <= 10_000, {
    message: 'must total at most 10000 GPUs',
  });

/** TPU types a tenant's TPU quota may name, at most. */
export const MAX_TPU_TYPES = 32;

const maxTpu = z.number().int().min(0).max(100_000);

/**
 * TPU chips per TPU type (`{ "tpu-v5-lite-podslice": 16 }`): the tenant's TPU quota is their
 * sum, and each type is capped at its own count (docs/scheduling.md#flavors).
 */
const tpuQuotaByType = z
  .record(
    z
      .string()
      .max(63)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a TPU type such as tpu-v5-lite-podslice'),
    maxTpu,
  )
  .refine((types) => Object.keys(types).length >= 1 && Object.keys(types).length <= MAX_TPU_TYPES, {
    message: `must name between 1 and ${MAX_TPU_TYPES} TPU types`,
  })
  .refine((types) => Object.values(types).reduce((sum, n) => sum + n, 0) <= 100_000, {
    message: 'must total at most 100000 TPU chips',
  });

export const updateTenantSchema = z
  .object({
    max_cpu: limits.max_cpu,
    max_memory_gi: limits.max_memory_gi,
    /** A number caps all GPUs; an object caps each type, and all together at their sum. */
    max_gpu: z.union([limits.max_gpu, gpuQuotaByType]),
    /**
     * TPU chips: a number caps all TPU types, an object caps each type and all together at their
     * sum, null removes the TPU quota (any number of chips, the default).
     */
    max_tpu: z
      .union([maxTpu, tpuQuotaByType])
      .nullable()
      .describe(
        'TPU chips the tenant may hold: a number for all TPU types together, an object per TPU type (capped together at their sum), or null for no TPU quota (the default).',
      ),
    max_concurrent_jobs: limits.max_concurrent_jobs,
    rate_limit_per_second: limits.rate_limit_per_second,
    results_retention_days: limits.results_retention_days,
    offload_budget_usd: limits.offload_budget_usd,
    weight: limits.weight,
    cohort: limits.cohort,
    borrowing_limit: limits.borrowing_limit,
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'name at least one field to change');
export type UpdateTenant = z.output<typeof updateTenantSchema>;

export const createKeySchema = z
  .object({ name: z.string().trim().min(1).max(100).default('default') })
  .strict()
  .default({ name: 'default' });

export const regenerateKeySchema = z
  .object({ tenant_id: tenantId.optional() })
  .strict()
  .default({});

export const tenantIdParam = z.string().max(100);
export const keyIdParam = z.uuid('must be a key id (UUID)');

export const listTenantsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(100).optional(),
  })
  .strict();
