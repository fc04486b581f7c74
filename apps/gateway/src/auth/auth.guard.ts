import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { GatewayConfig } from '@roam/config';
import { TokenBuckets } from '@roam/domain';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';
import type { Response } from 'express';

import { AuthService, unauthorized } from './auth.service.js';
import { type AuthenticatedRequest, PUBLIC_ROUTE, REQUIRED_ROLE } from './principal.js';

/**
 * Every route needs a valid key unless it is `@Public()`. `@AdminOnly()` routes answer a
 * tenant key with 403; `@TenantOnly()` routes answer an admin with 403 (admins act on tenants
 * through the admin routes). Health probes are not Nest routes of this module and stay open.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) ?? false;
    const principal = await this.auth.authenticate(request.headers.authorization);
    request.principal = principal;
    if (isPublic) return true;
    if (!principal) throw unauthorized('an API key is required: Authorization: Bearer sk-…', false);
    const role = this.reflector.getAllAndOverride<'admin' | 'tenant'>(REQUIRED_ROLE, targets);
    if (role && principal.kind !== role) {
      throw new ProblemError(
        403,
        problemTypes.forbidden,
        'Forbidden',
        role === 'admin'
          ? 'this route needs an admin key'
          : 'this route acts for a tenant; use a tenant API key',
      );
    }
    return true;
  }
}

/** Per-tenant token bucket (admins are not limited). Sets the IETF `RateLimit-*` headers. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets = new TokenBuckets();

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    if (principal?.kind !== 'tenant') return true;
    const rate = principal.rateLimitPerSecond ?? this.config.RATE_LIMIT_PER_SECOND;
    const burst = Math.max(this.config.RATE_LIMIT_BURST, Math.ceil(rate));
    const decision = this.buckets.take(principal.tenantId, rate, burst, Date.now());
    const response = context.switchToHttp().getResponse<Response>();
    response.setHeader('RateLimit-Limit', String(decision.limit));
    response.setHeader('RateLimit-Remaining', String(decision.remaining));
    response.setHeader('RateLimit-Reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      throw new ProblemError(
        429,
        problemTypes.rateLimited,
        'Too many requests',
        `tenant ${principal.tenantId} is limited to ${rate} requests per second (burst ${burst}); retry in ${decision.retryAfterSeconds} s`,
        {},
        { 'Retry-After': String(decision.retryAfterSeconds) },
      );
    }
    return true;
  }
}
