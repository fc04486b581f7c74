import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import type { PrismaClient, RawStatements } from '@roam/db';
import { APP_CONFIG, PRISMA, ProblemError } from '@roam/runtime';

export const pendingCapProblem = 'https://roam.dev/problems/too-many-pending-jobs';

/** Jobs leave the pending state as they start or end; no finer hint exists. */
const RETRY_AFTER_SECONDS = 60;

/** Serialises the capped batch submits of one tenant (the second key is the tenant's hash). */
const PENDING_CAP_LOCK = 0x726f6163;

/** How long a single submit may rely on a tenant's last count (plus what it has added since). */
const COUNT_TTL_MS = 1000;

/**
 * The cap on a tenant's pending jobs (`MAX_PENDING_JOBS_PER_TENANT`): a submit that would take
 * the tenant over it is refused whole with a 429, before anything is written. Without it one
 * tenant's backlog could grow without bound and make every admission cycle and every query over
 * its jobs slower for everyone.
 *
 * The count is bounded (`LIMIT cap` over the `(tenant_id, status)` index), so it never costs
 * more than the cap rows however large the table; that is still tens of milliseconds at a cap of
 * 100,000, so single submits reuse a tenant's count for a second, adding what they submit, and a
 * tenant hammering at its cap is refused from memory. A batch counts afresh under a per-tenant
 * transaction lock, so batches never overshoot. Single submits can overshoot by what the count
 * has not seen within that second (other replicas' submits, a batch committing meanwhile; the
 * tenant's rate limit bounds it), and room freed by finished jobs is seen within a second.
 */
@Injectable()
export class PendingCap {
  private readonly counts = new Map<string, { pending: number; at: number }>();

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** 429 unless the tenant may add `incoming` pending jobs. */
  async assertRoom(tenantId: string, incoming: number): Promise<void> {
    let known = this.counts.get(tenantId);
    if (!known || Date.now() - known.at >= COUNT_TTL_MS) {
      known = { pending: await this.count(this.prisma, tenantId), at: Date.now() };
      this.counts.set(tenantId, known);
    }
    this.check(tenantId, incoming, known.pending);
    // Counted before the insert, so concurrent submits of this gateway see each other.
    known.pending += incoming;
  }

  /**
   * The same inside a submit's transaction, counted afresh while holding a per-tenant lock
   * until it commits, so a concurrent batch of the same tenant counts this one's jobs.
   */
  async assertRoomInTransaction(
    tx: RawStatements,
    tenantId: string,
    incoming: number,
  ): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${PENDING_CAP_LOCK}::int, hashtext(${tenantId}))`;
    const pending = await this.count(tx, tenantId);
    this.check(tenantId, incoming, pending);
    this.counts.set(tenantId, { pending: pending + incoming, at: Date.now() });
  }

  private async count(db: RawStatements, tenantId: string) {
    const [row] = await db.$queryRaw<{ pending: number }[]>`
      SELECT count(*)::int AS pending FROM (
        SELECT 1 FROM jobs WHERE tenant_id = ${tenantId} AND status = 'pending'
        LIMIT ${this.config.MAX_PENDING_JOBS_PER_TENANT}
      ) capped`;
    return row?.pending ?? 0;
  }

  private check(tenantId: string, incoming: number, pending: number): void {
    const cap = this.config.MAX_PENDING_JOBS_PER_TENANT;
    if (pending + incoming <= cap) return;
    const shown = Math.min(pending, cap);
    const count = shown >= cap ? `${cap} or more` : `${shown}`;
    throw new ProblemError(
      429,
      pendingCapProblem,
      'Too many pending jobs',
      `tenant ${tenantId} has ${count} pending jobs; ${incoming} more would exceed its cap of ${cap}. Nothing was submitted; submit again as jobs start or finish`,
      { cap, pending: shown, incoming },
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }
}
