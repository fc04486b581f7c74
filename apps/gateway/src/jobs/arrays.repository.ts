import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@roam/contracts';
import { type JobArray, Prisma, type PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

import { type LockedJobs, lockJobs } from './groups.repository.js';
import type { JobRow } from './jobs.repository.js';

export type ArrayRow = JobArray;

/** Job arrays of one tenant: their counters (kept by the database) and their elements. */
@Injectable()
export class ArraysRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  find(tenantId: string, id: string): Promise<ArrayRow | null> {
    return this.prisma.jobArray.findFirst({ where: { id, tenantId } });
  }

  element(tenantId: string, arrayId: string, index: number): Promise<JobRow | null> {
    return this.prisma.job.findFirst({ where: { arrayId, arrayIndex: index, tenantId } });
  }

  /** Elements by index after `after`, read through the (array_id, array_index) index. */
  elements(
    tenantId: string,
    arrayId: string,
    query: { status?: JobStatus; after?: number; limit: number },
  ): Promise<JobRow[]> {
    return this.prisma.job.findMany({
      where: {
        arrayId,
        tenantId,
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.after !== undefined ? { arrayIndex: { gt: query.after } } : {}),
      },
      orderBy: { arrayIndex: 'asc' },
      take: query.limit,
    });
  }

  /** The array's elements in one of `statuses` after index `after`, locked (`lockJobs`). */
  lockElements(
    tx: Prisma.TransactionClient,
    tenantId: string,
    arrayId: string,
    statuses: readonly JobStatus[],
    after: number | undefined,
    limit: number,
  ): Promise<LockedJobs<number>> {
    return lockJobs(tx, {
      tenantId,
      where: Prisma.sql`array_id = ${arrayId}::uuid`,
      statuses,
      key: {
        column: Prisma.sql`array_index`,
        after: after === undefined ? null : Prisma.sql`${after}::int`,
      },
      read: (row) => row.array_index ?? 0,
      limit,
    });
  }

  /** The array's row, locked for the rest of the transaction. */
  async lock(tx: Prisma.TransactionClient, tenantId: string, id: string): Promise<ArrayRow | null> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM job_arrays WHERE id = ${id}::uuid AND tenant_id = ${tenantId}
      FOR UPDATE`;
    return rows.length === 0 ? null : tx.jobArray.findUnique({ where: { id } });
  }
}
