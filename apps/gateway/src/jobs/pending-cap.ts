import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import type { Prisma, PrismaClient } from '@roam/db';
import { APP_CONFIG, PRISMA, ProblemError } from '@roam/runtime';

export const pendingCapProblem = 'https://roam.dev/problems/too-many-pending-jobs';

/** Jobs leave the pending state as they start or end; no finer hint exists. */
const RETRY_AFTER_SECONDS = 60;

/** Serialises the capped batch submits of one tenant (the second key is the tenant's hash). */
const PENDING_CAP_LOCK = 0x726f6163;

/**
 * The cap on a tenant's pending jobs (`MAX_PENDING_JOBS_PER_TENANT`): a submit that would take
 * the tenant over it is refused whole with a 429, before anything is written. Without it one
 * tenant's backlog could grow without bound and make every admission cycle and every query over
 * its jobs slower for everyone.
 *
 * The count is bounded (`LIMIT cap` over the `(tenant_id, status)` index), so it never costs
 * more than the cap however large the table. A batch counts under a per-tenant transaction lock,
 * so batches never overshoot; a single submit counts just before its one-statement insert, so
 * single submits racing each other can overshoot by at most the number in flight at once.
 */
@Injectable()
export class PendingCap {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** 429 unless the tenant may add `incoming` pending jobs. */
  async assertRoom(tenantId: string, incoming: number): Promise<void> {
    this.check(tenantId, incoming, await this.count(this.prisma, tenantId));
  }

  /**
   * The same inside a submit's transaction, holding a per-tenant lock until it commits, so a
   * concurrent batch of the same tenant counts this one's jobs.
   */
  async assertRoomInTransaction(
    tx: Prisma.TransactionClient,
    tenantId: string,
    incoming: number,
  ): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${PENDING_CAP_LOCK}::int, hashtext(${tenantId}))`;
    this.check(tenantId, incoming, await this.count(tx, tenantId));
  }

  private async count(db: Prisma.TransactionClient | PrismaClient, tenantId: string) {
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
    const count = pending >= cap ? `${cap} or more` : `${pending}`;
    throw new ProblemError(
      429,
      pendingCapProblem,
      'Too many pending jobs',
      `tenant ${tenantId} has ${count} pending jobs; ${incoming} more would exceed its cap of ${cap}. Nothing was submitted; submit again as jobs start or finish`,
      { cap, pending, incoming },
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }
}
