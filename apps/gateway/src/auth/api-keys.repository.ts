import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ApiKeyRole, Prisma, PrismaClient } from '@roam/db';
import { generateApiKey } from '@roam/domain';
import { LOGGER, Loop, type LoopHealth, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

export interface ActiveKey {
  id: string;
  role: ApiKeyRole;
  tenantId: string | null;
  tenantStatus: string | null;
  rateLimitPerSecond: number | null;
}

export interface IssuedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  createdAt: Date;
}

const LAST_USED_FLUSH_MS = 10_000;
/**
 * How long a key lookup is reused. Revocation and tenant changes made through this gateway
 * clear the cache at once; other gateway replicas see them within this time.
 */
const KEY_CACHE_MS = 5_000;
const KEY_CACHE_MAX = 10_000;
/**
 * How long "no such key" is remembered: a client retrying a wrong key does not cost a query
 * each time. Kept apart from the found keys, so a flood of misses never evicts a valid key.
 */
const MISS_CACHE_MS = 2_000;
const MISS_CACHE_MAX = 10_000;

/** A map bounded to `max` entries that drops the least recently used one past it. */
class LruCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(private readonly max: number) {}

  /** `found: false` when absent or expired. */
  get(key: string, now: number): { found: true; value: V } | { found: false } {
    const entry = this.entries.get(key);
    if (!entry) return { found: false };
    this.entries.delete(key);
    if (entry.expires <= now) return { found: false };
    this.entries.set(key, entry);
    return { found: true, value: entry.value };
  }

  set(key: string, value: V, expires: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

@Injectable()
export class ApiKeysRepository implements OnModuleInit, OnModuleDestroy {
  private readonly used = new Set<string>();
  private readonly found = new LruCache<ActiveKey>(KEY_CACHE_MAX);
  private readonly missing = new LruCache<true>(MISS_CACHE_MAX);
  private readonly flushing: Loop;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(LOGGER) logger: Logger,
  ) {
    // Last-used times are written in batches: a write per request would double the gateway's
    // database load for a value nobody needs to the second.
    this.flushing = new Loop({
      name: 'API key last-used flush',
      intervalMs: LAST_USED_FLUSH_MS,
      logger,
      pass: () => this.flushLastUsed(),
    });
  }

  get flushHealth(): LoopHealth {
    return this.flushing.health;
  }

  onModuleInit(): void {
    this.flushing.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.flushing.stop();
    // Best effort, as every flush: a missed last-used time is not worth failing shutdown for.
    await this.flushLastUsed().catch(() => undefined);
  }

  /** What the caches know without a query: the key, `null` for a known miss, undefined when unknown. */
  cached(hash: string): ActiveKey | null | undefined {
    const now = Date.now();
    const hit = this.found.get(hash, now);
    if (hit.found) return hit.value;
    return this.missing.get(hash, now).found ? null : undefined;
  }

  async findActive(hash: string): Promise<ActiveKey | undefined> {
    const known = this.cached(hash);
    if (known !== undefined) return known ?? undefined;
    const key = await this.lookup(hash);
    const now = Date.now();
    if (key) this.found.set(hash, key, now + KEY_CACHE_MS);
    else this.missing.set(hash, true, now + MISS_CACHE_MS);
    return key;
  }

  /** Drops every cached lookup: after a revocation, a new key or a change of tenant status or limits. */
  forget(): void {
    this.found.clear();
    this.missing.clear();
  }

  /** Cached lookups, found and missing (for tests and metrics). */
  get cacheSize(): { found: number; missing: number } {
    return { found: this.found.size, missing: this.missing.size };
  }

  private async lookup(hash: string): Promise<ActiveKey | undefined> {
    const key = await this.prisma.apiKey.findFirst({
      where: { hash, revokedAt: null },
      select: {
        id: true,
        role: true,
        tenantId: true,
        tenant: { select: { status: true, rateLimitPerSecond: true } },
      },
    });
    if (!key) return undefined;
    return {
      id: key.id,
      role: key.role,
      tenantId: key.tenantId,
      tenantStatus: key.tenant?.status ?? null,
      rateLimitPerSecond: key.tenant?.rateLimitPerSecond ?? null,
    };
  }

  markUsed(id: string): void {
    this.used.add(id);
  }

  async issue(
    db: Prisma.TransactionClient | PrismaClient,
    owner: { tenantId: string | null; role: ApiKeyRole },
    name: string,
  ): Promise<IssuedKey> {
    const { key, hash, prefix } = generateApiKey(owner.role);
    const row = await db.apiKey.create({
      data: {
        id: crypto.randomUUID(),
        tenantId: owner.tenantId,
        role: owner.role,
        name,
        prefix,
        hash,
      },
    });
    return { id: row.id, key, prefix, name, createdAt: row.createdAt };
  }

  list(tenantId: string | null, role: ApiKeyRole) {
    return this.prisma.apiKey.findMany({
      where: { tenantId, role },
      orderBy: { createdAt: 'asc' },
      select: {
        id: true,
        name: true,
        prefix: true,
        role: true,
        createdAt: true,
        lastUsedAt: true,
        revokedAt: true,
      },
    });
  }

  /** Revokes one key of `tenantId` (null for admin keys). False when no such active key. */
  async revoke(
    db: Prisma.TransactionClient | PrismaClient,
    tenantId: string | null,
    keyId: string,
  ): Promise<boolean> {
    const { count } = await db.apiKey.updateMany({
      where: { id: keyId, tenantId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    // Inside a caller's transaction this runs before commit: callers forget() again after it.
    this.forget();
    return count === 1;
  }

  /** Revokes every active key of the tenant; returns their ids. */
  async revokeAll(db: Prisma.TransactionClient, tenantId: string): Promise<string[]> {
    this.forget();
    const revoked = await db.apiKey.updateManyAndReturn({
      where: { tenantId, revokedAt: null },
      data: { revokedAt: new Date() },
      select: { id: true },
    });
    return revoked.map((key) => key.id);
  }

  /** Active keys of a tenant, for the per-tenant cap. */
  countActive(db: Prisma.TransactionClient | PrismaClient, tenantId: string): Promise<number> {
    return db.apiKey.count({ where: { tenantId, revokedAt: null } });
  }

  /** Best effort: the ids of a failed write are dropped, as a last-used time is only a hint. */
  private async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used.clear();
    await this.prisma.apiKey.updateMany({
      where: { id: { in: ids } },
      data: { lastUsedAt: new Date() },
    });
  }
}
