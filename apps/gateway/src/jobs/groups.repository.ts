import { Inject, Injectable } from '@nestjs/common';
import { type JobGroup, Prisma, type PrismaClient } from '@roam/db';
import { type LockedJobs, lockJobs, UNFINISHED } from '@roam/jobs';
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

  /** Records a cancel (`cancel_requested_at`) of the group's arrays that lack element rows. */
  async requestCancelOfLargeArrays(tenantId: string, name: string): Promise<void> {
    await this.prisma.jobArray.updateMany({
      where: {
        tenantId,
        groupName: name,
        cancelRequestedAt: null,
        materialized: { lt: this.prisma.jobArray.fields.size },
      },
      data: { cancelRequestedAt: new Date() },
    });
  }
}
