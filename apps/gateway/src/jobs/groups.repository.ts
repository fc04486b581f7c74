import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@roam/contracts';
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

  /** The group's unfinished jobs after `after` (by id), locked (`lockJobs`). */
  lockUnfinished(
    tx: Prisma.TransactionClient,
    tenantId: string,
    group: string,
    after: string | undefined,
    limit: number,
  ): Promise<LockedJobs<string>> {
    return lockJobs(tx, {
      tenantId,
      where: Prisma.sql`group_name = ${group}`,
      statuses: UNFINISHED,
      key: {
        column: Prisma.sql`id`,
        after: after === undefined ? null : Prisma.sql`${after}::uuid`,
      },
      read: (row) => row.id,
      limit,
    });
  }
}

/** Statuses of a job that has not finished. */
export const UNFINISHED: readonly JobStatus[] = ['pending', 'running'];

/** A batch of locked jobs and the key of its last one (where the next batch starts). */
export interface LockedJobs<K> {
  jobs: LedgerJob[];
  last: K | undefined;
}

interface LockedRow {
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
  array_index: number | null;
}

/**
 * Up to `limit` jobs of the tenant matching `where` in one of `statuses`, after `key.after` in
 * the order of `key.column` (an index of `where` gives that order), locked for the rest of the
 * transaction, as the ledger needs them. Keyset-paged: a caller walking a set of 100,000 jobs
 * reads each index entry once, never again the ones it already went past.
 */
export async function lockJobs<K>(
  tx: Prisma.TransactionClient,
  query: {
    tenantId: string;
    where: Prisma.Sql;
    statuses: readonly JobStatus[];
    key: { column: Prisma.Sql; after: Prisma.Sql | null };
    read: (row: LockedRow) => K;
    limit: number;
  },
): Promise<LockedJobs<K>> {
  const { key } = query;
  const after = key.after === null ? Prisma.empty : Prisma.sql`AND ${key.column} > ${key.after}`;
  const rows = await tx.$queryRaw<LockedRow[]>`
    SELECT id::text AS id, tenant_id, name, attempt, seq, status::text AS status, phase, reason,
           message, placement, array_index
    FROM jobs
    WHERE tenant_id = ${query.tenantId} AND ${query.where} ${after}
      AND status = ANY(${[...query.statuses]}::"JobStatus"[])
    ORDER BY ${key.column}
    LIMIT ${query.limit}
    FOR UPDATE`;
  const last = rows.at(-1);
  return {
    jobs: rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      attempt: row.attempt,
      seq: row.seq,
      state: jobStateOf(row),
      placement: row.placement,
    })),
    last: last === undefined ? undefined : query.read(last),
  };
}
