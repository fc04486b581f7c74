import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { hashApiKey, looksLikeApiKey, secretsEqual, TokenBuckets } from '@roam/domain';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';
import type { Request } from 'express';

import { ApiKeysRepository } from './api-keys.repository.js';
import { ClientAddresses } from './client-address.js';
import type { Principal } from './principal.js';
import { type RevocationListener, type Revocation, Revocations } from './revocations.js';

const CHALLENGE = 'Bearer realm="roam"';

/** Why a key of a tenant under deletion is refused, and why that tenant's streams end. */
export const TENANT_DELETING = 'the tenant of this key is being deleted';

export function unauthorized(detail: string, invalidToken: boolean): ProblemError {
  return new ProblemError(
    401,
    problemTypes.unauthorized,
    'Unauthorized',
    detail,
    {},
    {
      'WWW-Authenticate': invalidToken ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE,
    },
  );
}

@Injectable()
export class AuthService {
  /** Failed authentications per client address: every random `sk-…` costs a query. */
  private readonly failures = new TokenBuckets();
  private readonly addresses: ClientAddresses;
  private readonly revocations = new Revocations();

  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.addresses = new ClientAddresses(config.TRUSTED_PROXIES);
  }

  /** The client address limits are kept under (the socket peer, or what trusted proxies say). */
  clientOf(request: Pick<Request, 'headers' | 'socket'>): string {
    return this.addresses.of(request);
  }

  /**
   * Hears, in this process, about keys revoked and tenants deleted from now on (see
   * `Revocations`); returns the function that stops listening.
   */
  onRevocation(listener: RevocationListener): () => void {
    return this.revocations.subscribe(listener);
  }

  /** Called once a revocation or a tenant deletion has committed. */
  revoked(revocation: Revocation): void {
    this.revocations.publish(revocation);
  }

  /**
   * The caller named by an `Authorization` header, or undefined when there is none. Throws 401
   * on a bad one, and 429 once `client` has failed too often: from then on a key the caches do
   * not know is refused without a lookup until the client's failure budget refills.
   */
  async authenticate(
    authorization: string | undefined,
    client = 'unknown',
  ): Promise<Principal | undefined> {
    if (authorization === undefined || authorization === '') return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw this.failed(client, 'the Authorization header must be "Bearer <API key>"');
    const token = match[1]!;
    const adminToken = this.config.ROAM_ADMIN_TOKEN;
    if (adminToken !== undefined && secretsEqual(token, adminToken))
      return { kind: 'admin', keyId: null };
    if (!looksLikeApiKey(token)) throw this.failed(client, 'invalid API key');
    const hash = hashApiKey(token);
    if (this.keys.cached(hash) === undefined && !this.mayTry(client)) throw this.tooMany(client);
    const key = await this.keys.findActive(hash);
    if (!key) throw this.failed(client, 'invalid or revoked API key');
    this.keys.markUsed(key.id);
    if (key.role === 'admin') return { kind: 'admin', keyId: key.id };
    if (!key.tenantId || key.tenantStatus === 'deleting') throw unauthorized(TENANT_DELETING, true);
    return {
      kind: 'tenant',
      tenantId: key.tenantId,
      keyId: key.id,
      rateLimitPerSecond: key.rateLimitPerSecond,
    };
  }

  private get failureRate(): number {
    return this.config.AUTH_FAILURES_PER_MINUTE / 60;
  }

  private mayTry(client: string): boolean {
    return this.failures.wouldAllow(
      client,
      this.failureRate,
      this.config.AUTH_FAILURES_BURST,
      Date.now(),
    );
  }

  /** 401 while the client has failures left, 429 once it has none. */
  private failed(client: string, detail: string): ProblemError {
    const decision = this.failures.take(
      client,
      this.failureRate,
      this.config.AUTH_FAILURES_BURST,
      Date.now(),
    );
    return decision.allowed ? unauthorized(detail, true) : this.tooMany(client);
  }

  private tooMany(client: string): ProblemError {
    const retryAfter = Math.max(1, Math.ceil(1 / this.failureRate));
    return new ProblemError(
      429,
      problemTypes.rateLimited,
      'Too many requests',
      `too many failed authentications from ${client}; retry in ${retryAfter} s`,
      {},
      { 'Retry-After': String(retryAfter) },
    );
  }
}
