import { z } from 'zod';

/** Command: bring the tenant's Kubernetes objects (namespace, quota, limits) to its current limits. */
export const tenantProvisionCommand = z.object({ tenantId: z.string().min(1).max(63) });
export type TenantProvisionCommand = z.infer<typeof tenantProvisionCommand>;

/** Command: remove the tenant's namespace, then the tenant. */
export const tenantDeleteCommand = z.object({ tenantId: z.string().min(1).max(63) });
export type TenantDeleteCommand = z.infer<typeof tenantDeleteCommand>;

export const tenantStatus = z.enum(['provisioning', 'ready', 'error', 'failed', 'deleting']);

export const tenantEvent = z.object({
  tenantId: z.string(),
  status: tenantStatus.or(z.literal('deleted')),
  reason: z.string().nullish(),
});
export type TenantEvent = z.infer<typeof tenantEvent>;
