import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling. Admins manage tenants and see every job; tenants see only their own. */
export type Principal =
  | { kind: 'tenant'; tenantId: string; keyId: string; rateLimitPerSecond: number | null }
  | { kind: 'admin'; keyId: string | null };

export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

export { Public, PUBLIC_ROUTE } from '@roam/runtime';
export const REQUIRED_ROLE = 'roam:role';
export const AdminOnly = () => SetMetadata(REQUIRED_ROLE, 'admin');
export const TenantOnly = () => SetMetadata(REQUIRED_ROLE, 'tenant');

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
});

/** The calling tenant; only on `@TenantOnly()` routes, where the guard guarantees one. */
export const CurrentTenant = createParamDecorator(
  (_: unknown, context: ExecutionContext): TenantPrincipal => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.kind !== 'tenant')
      throw new Error('CurrentTenant used on a route that is not @TenantOnly()');
    return principal;
  },
);
