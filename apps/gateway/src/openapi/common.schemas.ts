import { z } from 'zod';

/**
 * Response schemas of routes whose views are plain functions (tenantView, keyView, health…);
 * the jobs, templates, events and webhooks views keep theirs beside them. They describe those
 * views for the OpenAPI document; `openapi.test.ts` checks real answers against them, so a view
 * that changes without its schema fails a test.
 */

const isoTime = z.iso.datetime();

/** RFC 9457 problem details, as every error leaves the gateway. */
export const problemSchema = z
  .object({
    type: z.url().describe('Stable identifier of the kind of problem; switch on this.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Validation problems: every bad field.'),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });

export const tenantViewSchema = z
  .object({
    tenant_id: z.string(),
    namespace: z.string(),
    status: z.enum(['provisioning', 'ready', 'error', 'deleting']),
    status_reason: z.string().nullable(),
    max_cpu: z.number(),
    max_memory_gi: z.number(),
    max_gpu: z.number().int(),
    max_gpu_by_type: z
      .record(z.string(), z.number().int())
      .optional()
      .describe('GPUs per accelerator type, when the quota names types; `max_gpu` is their sum.'),
    max_tpu: z
      .number()
      .int()
      .nullable()
      .describe('TPU chips the tenant may hold, all TPU types together; null: no TPU quota.'),
    max_tpu_by_type: z
      .record(z.string(), z.number().int())
      .optional()
      .describe('TPU chips per TPU type, when the quota names types; `max_tpu` is their sum.'),
    max_concurrent_jobs: z.number().int(),
    rate_limit_per_second: z.number().nullable(),
    results_retention_days: z.number().int().nullable(),
    offload_budget_usd: z.number().nullable(),
    offload_spend_usd: z.number(),
    weight: z.number().int(),
    cohort: z
      .string()
      .nullable()
      .describe('Cohort sharing idle guaranteed quota; null: the limits are a hard cap.'),
    borrowing_limit: z
      .object({
        cpu: z.number().optional(),
        memory_gi: z.number().optional(),
        gpu: z.number().int().optional(),
      })
      .nullable()
      .describe('Borrowing beyond the guarantee per resource; a resource left out is not capped.'),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Tenant' });

export const registeredTenantSchema = tenantViewSchema
  .extend({
    api_key: z.string().describe('Shown once; stored only as a hash.'),
    api_key_id: z.uuid(),
    message: z.string(),
  })
  .meta({ id: 'RegisteredTenant' });

export const tenantUsageSchema = z
  .object({
    cpu: z.number().describe('Cores held by admitted, unfinished jobs (against `max_cpu`).'),
    memory_gi: z.number().describe('GiB held (against `max_memory_gi`).'),
    gpu: z.number().int().describe('GPUs held (against `max_gpu`).'),
    tpu: z
      .number()
      .int()
      .describe(
        'TPU chips held, of every type (against `max_tpu`); a multi-host slice counts all its hosts.',
      ),
    running_jobs: z
      .number()
      .int()
      .describe('Jobs admitted and not finished (against `max_concurrent_jobs`).'),
    pending_jobs: z.number().int().describe('Jobs waiting for admission.'),
  })
  .describe("What the tenant's jobs hold of its quota now.")
  .meta({ id: 'TenantUsage' });

export const tenantPageSchema = z.object({
  items: z.array(
    tenantViewSchema.extend({ usage: tenantUsageSchema }).meta({ id: 'TenantWithUsage' }),
  ),
  next_cursor: z.string().nullable(),
});

export const keyViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    created_at: isoTime,
    last_used_at: isoTime.nullable(),
    revoked_at: isoTime.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const keyListSchema = z.object({ items: z.array(keyViewSchema) });

export const issuedKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    api_key: z.string().describe('Shown once; stored only as a hash.'),
    created_at: isoTime,
  })
  .meta({ id: 'IssuedApiKey' });

export const regeneratedKeySchema = z.object({
  tenant_id: z.string(),
  api_key: z.string(),
  api_key_id: z.uuid(),
  message: z.string(),
});

const checks = z.object({ postgres: z.boolean(), nats: z.boolean(), consumers: z.boolean() });

export const readinessSchema = z.object({ status: z.enum(['ready', 'unready']), checks });

export const compatHealthSchema = z.object({
  status: z.enum(['healthy', 'degraded']),
  service: z.string(),
  checks,
});

export const liveSchema = z.object({ status: z.literal('ok') });
