import { Inject, Injectable } from '@nestjs/common';
import { type JobGroup, Prisma, type PrismaClient } from '@roam/db';
import { jobStateOf } from '@roam/domain';
import type { LedgerJob } from '@roam/jobs';
import { PRISMA } from '@roam/runtime';

export type GroupRow = JobGroup;

/** Job groups of one tenant: their counters (kept by the database) and their unfinished jobs. */
@Injectable()
export class GroupsRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  find(tenantId: string, name: string): Promise<GroupRow | null> {
    return this.prisma.jobGroup.findUnique({ where: { tenantId_name: { tenantId, name } } });
  }

  /** By name, keyset-paged: `after` is the last name of the previous page. */
  list(tenantId: string, query: { after?: string; limit: number }): Promise<GroupRow[]> {
    return this.prisma.jobGroup.findMany({
      where: { tenantId, ...(query.after !== undefined ? { name: { gt: query.after } } : {}) },
      orderBy: { name: 'asc' },
      take: query.limit,
    });
  }

  /** Up to `limit` unfinished jobs of the group, locked (`lockUnfinishedJobs`). */
  lockUnfinished(
    tx: Prisma.TransactionClient,
    tenantId: string,
    group: string,
    limit: number,
  ): Promise<LedgerJob[]> {
    return lockUnfinishedJobs(
      tx,
      tenantId,
      Prisma.sql`group_name = ${group}`,
      Prisma.sql`id`,
      limit,
    );
  }
}

/**
 * Up to `limit` unfinished jobs of the tenant matching `where`, locked for the rest of the
 * transaction, as the ledger needs them. Finished jobs are skipped, so a caller that finishes
 * what it locked reaches the end by calling again.
 */
export async function lockUnfinishedJobs(
  tx: Prisma.TransactionClient,
  tenantId: string,
  where: Prisma.Sql,
  /** An order an index of `where` gives, so a batch does not sort the whole set. */
  orderBy: Prisma.Sql,
  limit: number,
): Promise<LedgerJob[]> {
  const rows = await tx.$queryRaw<
    {
      id: string;
      tenant_id: string;
      name: string;
      attempt: number;
      seq: number;
      status: string;
      phase: string;
      reason: string | null;
      message: string | null;
      placement: Record<string, unknown> | null;
    }[]
  >`SELECT id::text AS id, tenant_id, name, attempt, seq, status::text AS status, phase, reason,
           message, placement
    FROM jobs
    WHERE tenant_id = ${tenantId} AND ${where} AND status IN ('pending', 'running')
    ORDER BY ${orderBy}
    LIMIT ${limit}
    FOR UPDATE`;
  return rows.map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    attempt: row.attempt,
    seq: row.seq,
    state: jobStateOf(row),
    placement: row.placement,
  }));
}
