import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { GatewayConfig } from '@roam/config';
import { type BucketDecision, TokenBuckets } from '@roam/domain';
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
    const principal = await this.auth.authenticate(
      request.headers.authorization,
      this.auth.clientOf(request),
    );
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

/**
 * Per-tenant token bucket, and one per client address for requests without a key
 * (registration among them); admins are not limited. Sets the IETF `RateLimit-*` headers.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets = new TokenBuckets();
  private readonly anonymous = new TokenBuckets();

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly auth: AuthService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    if (principal?.kind === 'admin') return true;
    const response = context.switchToHttp().getResponse<Response>();
    if (principal === undefined) {
      const client = this.auth.clientOf(request);
      const rate = this.config.ANONYMOUS_RATE_LIMIT_PER_SECOND;
      const burst = this.config.ANONYMOUS_RATE_LIMIT_BURST;
      const decision = this.anonymous.take(client, rate, burst, Date.now());
      return enforce(
        response,
        decision,
        `requests without an API key are limited to ${rate} per second per client address (burst ${burst}); retry in ${decision.retryAfterSeconds} s`,
      );
    }
    const rate = principal.rateLimitPerSecond ?? this.config.RATE_LIMIT_PER_SECOND;
    const burst = Math.max(this.config.RATE_LIMIT_BURST, Math.ceil(rate));
    const decision = this.buckets.take(principal.tenantId, rate, burst, Date.now());
    return enforce(
      response,
      decision,
      `tenant ${principal.tenantId} is limited to ${rate} requests per second (burst ${burst}); retry in ${decision.retryAfterSeconds} s`,
    );
  }
}

function enforce(response: Response, decision: BucketDecision, detail: string): true {
  response.setHeader('RateLimit-Limit', String(decision.limit));
  response.setHeader('RateLimit-Remaining', String(decision.remaining));
  response.setHeader('RateLimit-Reset', String(decision.resetSeconds));
  if (!decision.allowed) {
    throw new ProblemError(
      429,
      problemTypes.rateLimited,
      'Too many requests',
      detail,
      {},
      { 'Retry-After': String(decision.retryAfterSeconds) },
    );
  }
  return true;
}
