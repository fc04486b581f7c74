import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ApiKeyRole, Prisma, PrismaClient } from '@roam/db';
import { generateApiKey } from '@roam/domain';
import { PRISMA } from '@roam/runtime';

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

@Injectable()
export class ApiKeysRepository implements OnModuleDestroy {
  private readonly used = new Set<string>();
  private readonly cache = new Map<string, { key: ActiveKey | undefined; expires: number }>();
  private readonly forgetListeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {
    // Last-used times are written in batches: a write per request would double the gateway's
    // database load for a value nobody needs to the second.
    this.timer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }

  async findActive(hash: string): Promise<ActiveKey | undefined> {
    const cached = this.cache.get(hash);
    if (cached && cached.expires > Date.now()) return cached.key;
    const key = await this.lookup(hash);
    if (this.cache.size >= KEY_CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { key, expires: Date.now() + KEY_CACHE_MS });
    return key;
  }

  /** Drops every cached lookup: after a revocation or a change of tenant status or limits. */
  forget(): void {
    this.cache.clear();
    for (const listener of this.forgetListeners) listener();
  }

  /** Called after every `forget()`: holders of long-lived access (open streams) re-check it. */
  onForget(listener: () => void): () => void {
    this.forgetListeners.add(listener);
    return () => this.forgetListeners.delete(listener);
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

  async revokeAll(db: Prisma.TransactionClient, tenantId: string): Promise<number> {
    this.forget();
    const { count } = await db.apiKey.updateMany({
      where: { tenantId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count;
  }

  private async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used.clear();
    try {
      await this.prisma.apiKey.updateMany({
        where: { id: { in: ids } },
        data: { lastUsedAt: new Date() },
      });
    } catch {
      // Best effort: a missed last-used update is not worth failing anything for.
    }
  }
}
