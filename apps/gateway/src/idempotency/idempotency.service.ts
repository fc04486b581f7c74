import {
  Inject,
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
  SetMetadata,
} from '@nestjs/common';
import { SecretBox } from '@roam/config';
import { LOGGER, Loop, type LoopHealth, ProblemError, problemTypes } from '@roam/runtime';
import type { Response } from 'express';
import type { Logger } from 'pino';

import type { Principal } from '../auth/principal.js';
import { type IdempotencyScope, IdempotencyRepository } from './idempotency.repository.js';
import { requestHash } from './request-hash.js';

/**
 * A stored response is kept sealed (`{"$sealed": "enc:v1:…"}`): the responses worth replaying
 * include new API keys and webhook secrets, and the replay must return them as the first answer
 * did (as Stripe does), so they are encrypted rather than dropped. Rows from before sealing
 * hold the body itself; the re-encryption pass seals them.
 */
export const SEALED_FIELD = '$sealed';

export function idempotentResponseContext(principal: string, key: string): string {
  return `idempotent-response:${principal}:${key}`;
}

export function sealedText(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const sealed = (body as Record<string, unknown>)[SEALED_FIELD];
  return typeof sealed === 'string' ? sealed : undefined;
}

/** Keys are remembered this long (as Stripe and the IETF draft suggest), then forgotten. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * A request in flight holds its key by a lease: its gateway renews the row every
 * `IN_FLIGHT_RENEW_MS` for as long as the request runs, however long that is. A row not renewed
 * for `IN_FLIGHT_STALE_SECONDS` belongs to a gateway that died (or has been stopped longer than
 * any pause it should survive); a retry takes the key over instead of being told "in flight"
 * until the key expires.
 */
export const IN_FLIGHT_STALE_SECONDS = 30;
export const IN_FLIGHT_RENEW_MS = 5_000;
/** A held key is renewed at most this long: a request that never settles cannot pin it. */
const IN_FLIGHT_MAX_MS = 30 * 60_000;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'Idempotency-Replayed';

export const idempotencyProblems = {
  reused: 'https://roam.dev/problems/idempotency-key-reused',
  inFlight: 'https://roam.dev/problems/idempotency-key-in-flight',
} as const;

/** Marks a route that reads its own body (a streamed form) and calls the service itself. */
export const IDEMPOTENCY_BY_ROUTE = 'roam:idempotency-by-route';
export const IdempotencyHandledByRoute = () => SetMetadata(IDEMPOTENCY_BY_ROUTE, true);

export type Begun = { kind: 'proceed' } | { kind: 'replay'; status: number; body: unknown };

/**
 * Keys are private to the caller. Anonymous requests (`POST /auth/register` without a key) get
 * no idempotency: two strangers choosing the same key would otherwise be handed each other's
 * response, which for a registration is an API key.
 */
const heldId = (scope: IdempotencyScope): string => `${scope.principal}\u0000${scope.key}`;

export function principalOf(principal: Principal | undefined): string | undefined {
  if (principal === undefined) return undefined;
  return principal.kind === 'tenant'
    ? `tenant:${principal.tenantId}`
    : `admin:${principal.keyId ?? 'bootstrap-token'}`;
}

/**
 * `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first request with
 * a key claims it by inserting a row; its response (any status below 500) is stored and replayed
 * for the same key and the same request; another request under the key is a 422; a retry while
 * the first is still running is a 409. 5xx outcomes are not stored, so a retry runs again.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnModuleDestroy {
  private readonly pruning: Loop;
  private readonly renewing: Loop;
  /** Keys whose request runs in this process, with when it began: their leases are renewed. */
  private readonly held = new Map<string, { scope: IdempotencyScope; since: number }>();

  constructor(
    private readonly repository: IdempotencyRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly box: SecretBox,
  ) {
    this.pruning = new Loop({
      name: 'idempotency key prune',
      intervalMs: PRUNE_INTERVAL_MS,
      logger,
      pass: () => this.repository.prune(IDEMPOTENCY_TTL_SECONDS),
    });
    this.renewing = new Loop({
      name: 'idempotency key renew',
      intervalMs: IN_FLIGHT_RENEW_MS,
      logger,
      pass: () => this.renewHeld(),
    });
  }

  /** Renews the lease of every key held here (one statement); exposed for tests. */
  async renewHeld(now = Date.now()): Promise<number> {
    const scopes: IdempotencyScope[] = [];
    for (const [id, { scope, since }] of this.held) {
      if (now - since > IN_FLIGHT_MAX_MS) this.held.delete(id);
      else scopes.push(scope);
    }
    return this.repository.renew(scopes);
  }

  get pruneHealth(): LoopHealth {
    return this.pruning.health;
  }

  onModuleInit(): void {
    this.pruning.start();
    this.renewing.start();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.pruning.stop(), this.renewing.stop()]);
  }

  /** The scope of a request, or undefined when it carries no key or has no principal. */
  scopeOf(
    principal: Principal | undefined,
    header: string | string[] | undefined,
    method: string,
    url: string,
    body: unknown,
  ): IdempotencyScope | undefined {
    if (header === undefined) return undefined;
    const owner = principalOf(principal);
    if (owner === undefined) return undefined;
    const key = Array.isArray(header) ? header.join(',') : header;
    if (!KEY_PATTERN.test(key)) {
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        'header Idempotency-Key: must be 1 to 255 visible ASCII characters',
      );
    }
    return {
      principal: owner,
      key,
      method,
      path: url,
      requestHash: requestHash(method, url, body),
    };
  }

  async begin(scope: IdempotencyScope): Promise<Begun> {
    // Two passes: a key released (5xx) between our insert and our read is simply claimed again.
    for (let pass = 0; pass < 2; pass++) {
      if (await this.repository.claim(scope, IDEMPOTENCY_TTL_SECONDS, IN_FLIGHT_STALE_SECONDS)) {
        this.held.set(heldId(scope), { scope, since: Date.now() });
        return { kind: 'proceed' };
      }
      const stored = await this.repository.find(scope.principal, scope.key);
      if (!stored) continue;
      if (
        stored.requestHash !== scope.requestHash ||
        stored.method !== scope.method ||
        stored.path !== scope.path
      ) {
        throw new ProblemError(
          422,
          idempotencyProblems.reused,
          'Idempotency key reused',
          `Idempotency-Key "${scope.key}" was first used for a different request (${stored.method} ${stored.path} with another body); use a new key for a new request`,
        );
      }
      if (stored.responseStatus === null) break;
      return { kind: 'replay', status: stored.responseStatus, body: this.open(scope, stored) };
    }
    throw new ProblemError(
      409,
      idempotencyProblems.inFlight,
      'Request in flight',
      `a request with Idempotency-Key "${scope.key}" is still being processed; retry shortly`,
      {},
      { 'Retry-After': '1' },
    );
  }

  private seal(scope: IdempotencyScope, body: unknown): { [SEALED_FIELD]: string } {
    const context = idempotentResponseContext(scope.principal, scope.key);
    return { [SEALED_FIELD]: this.box.seal(JSON.stringify(body ?? null), context) };
  }

  private open(scope: IdempotencyScope, stored: { responseBody: unknown }): unknown {
    const sealed = sealedText(stored.responseBody);
    if (sealed === undefined) return stored.responseBody;
    try {
      const context = idempotentResponseContext(scope.principal, scope.key);
      return JSON.parse(this.box.open(sealed, context)) as unknown;
    } catch (error) {
      this.logger.error(
        { err: error, key: scope.key },
        'stored idempotent response cannot be decrypted: check ROAM_SECRETS_KEYS',
      );
      throw new ProblemError(
        500,
        problemTypes.internal,
        'Internal Server Error',
        `the response stored for Idempotency-Key "${scope.key}" cannot be read back; use a new key`,
      );
    }
  }

  /** Stores the outcome, or releases the key when it was a server failure. */
  async finish(scope: IdempotencyScope, status: number, body: unknown): Promise<void> {
    this.held.delete(heldId(scope));
    try {
      if (status >= 500) await this.repository.release(scope);
      else await this.repository.complete(scope, status, this.seal(scope, body));
    } catch (error) {
      // The work is done and committed; failing the response now would invite a retry that
      // does it twice. A row left in flight is taken over by a retry once stale.
      this.logger.warn({ err: error, key: scope.key }, 'could not record idempotency outcome');
    }
  }

  /**
   * After a thrown error: a client error (a `ProblemError` below 500) is stored as the problem
   * document the error filter sends; anything else releases the key.
   */
  async failed(scope: IdempotencyScope, error: unknown, instance: string): Promise<void> {
    this.held.delete(heldId(scope));
    try {
      if (error instanceof ProblemError && error.status < 500) {
        await this.repository.complete(
          scope,
          error.status,
          this.seal(scope, {
            type: error.type,
            title: error.title,
            status: error.status,
            detail: error.message,
            ...error.extensions,
            instance,
          }),
        );
      } else {
        await this.repository.release(scope);
      }
    } catch (storeError) {
      // The request's own error is what the client must see; a row left in flight is taken
      // over by a retry once stale.
      this.logger.warn({ err: storeError, key: scope.key }, 'could not record idempotency outcome');
    }
  }

  /** Sets status and headers of a replayed response; the caller sends the body. */
  replay(response: Response, begun: Extract<Begun, { kind: 'replay' }>): unknown {
    response.status(begun.status);
    response.setHeader(REPLAYED_HEADER, 'true');
    if (begun.status >= 400) response.type('application/problem+json');
    return begun.body;
  }
}
