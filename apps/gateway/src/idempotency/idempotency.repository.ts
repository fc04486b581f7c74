import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

export interface IdempotencyScope {
  /** Who sent the request: keys are private to a principal. */
  principal: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
}

export interface StoredRequest {
  method: string;
  path: string;
  requestHash: string;
  responseStatus: number | null;
  responseBody: unknown;
}

export interface StoredResponse {
  principal: string;
  key: string;
  responseBody: unknown;
}

/** The `idempotency_keys` table; no rules here beyond the conditional writes. */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /**
   * Claims the key for this request, taking over a row that expired (older than `ttlSeconds`)
   * or whose request never finished and whose lease was not renewed for `staleSeconds` (its
   * gateway died).
   * True when this request owns the key now.
   */
  async claim(scope: IdempotencyScope, ttlSeconds: number, staleSeconds: number): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ claimed: boolean }[]>`
      INSERT INTO idempotency_keys (principal, key, method, path, request_hash, created_at)
      VALUES (${scope.principal}, ${scope.key}, ${scope.method}, ${scope.path}, ${scope.requestHash}, now())
      ON CONFLICT (principal, key) DO UPDATE SET
        method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
        response_status = NULL, response_body = NULL, created_at = now()
      WHERE idempotency_keys.created_at < now() - make_interval(secs => ${ttlSeconds})
         OR (idempotency_keys.response_status IS NULL
             AND idempotency_keys.created_at < now() - make_interval(secs => ${staleSeconds}))
      RETURNING true AS claimed`;
    return rows.length === 1;
  }

  /**
   * Renews the leases of requests still in flight (`created_at` is the lease's start while the
   * response is not stored). Returns how many rows were renewed.
   */
  async renew(scopes: readonly IdempotencyScope[]): Promise<number> {
    if (scopes.length === 0) return 0;
    return this.prisma.$executeRaw`
      UPDATE idempotency_keys k SET created_at = now()
      FROM unnest(${scopes.map((s) => s.principal)}::text[], ${scopes.map((s) => s.key)}::text[],
                  ${scopes.map((s) => s.requestHash)}::text[]) AS h(principal, key, request_hash)
      WHERE k.principal = h.principal AND k.key = h.key AND k.request_hash = h.request_hash
        AND k.response_status IS NULL`;
  }

  async find(principal: string, key: string): Promise<StoredRequest | undefined> {
    const row = await this.prisma.idempotencyKey.findUnique({
      where: { principal_key: { principal, key } },
    });
    return row ?? undefined;
  }

  /** Records the response of the request that owns the key (and only while it still does). */
  async complete(scope: IdempotencyScope, status: number, body: unknown): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE idempotency_keys
      SET response_status = ${status}, response_body = ${JSON.stringify(body ?? null)}::jsonb
      WHERE principal = ${scope.principal} AND key = ${scope.key}
        AND request_hash = ${scope.requestHash} AND response_status IS NULL`;
  }

  /** Gives the key up (the request failed with a 5xx): a retry runs the request again. */
  async release(scope: IdempotencyScope): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM idempotency_keys
      WHERE principal = ${scope.principal} AND key = ${scope.key}
        AND request_hash = ${scope.requestHash} AND response_status IS NULL`;
  }

  async prune(ttlSeconds: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => ${ttlSeconds})`;
  }

  /**
   * Completed rows after `after` (by principal, key) whose response is not sealed under the key
   * `sealedPrefix` names: what the re-encryption pass works on.
   */
  responsesToReseal(
    after: { principal: string; key: string },
    sealedPrefix: string,
    limit: number,
  ): Promise<StoredResponse[]> {
    return this.prisma.$queryRaw<StoredResponse[]>`
      SELECT principal, key, response_body AS "responseBody"
      FROM idempotency_keys
      WHERE (principal, key) > (${after.principal}, ${after.key})
        AND response_status IS NOT NULL
        AND NOT starts_with(coalesce(response_body ->> '$sealed', ''), ${sealedPrefix})
      ORDER BY principal, key
      LIMIT ${limit}`;
  }

  /** Replaces a stored response only if it is still `was.responseBody`. */
  async replaceResponse(was: StoredResponse, body: unknown): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE idempotency_keys SET response_body = ${JSON.stringify(body)}::jsonb
      WHERE principal = ${was.principal} AND key = ${was.key}
        AND response_body = ${JSON.stringify(was.responseBody)}::jsonb`;
    return count === 1;
  }
}
