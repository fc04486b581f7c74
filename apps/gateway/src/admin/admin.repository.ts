import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@roam/contracts';
import type { Prisma, PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/** Cross-tenant reads, for admin routes only (the one place a query has no tenant). */
@Injectable()
export class AdminRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async jobs(filter: { status?: JobStatus; tenantId?: string }, limit: number) {
    const where: Prisma.JobWhereInput = {
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.tenantId ? { tenantId: filter.tenantId } : {}),
    };
    const [rows, total] = await Promise.all([
      this.prisma.job.findMany({
        where,
        orderBy: { id: 'desc' },
        take: limit,
        select: {
          id: true,
          tenantId: true,
          name: true,
          status: true,
          phase: true,
          attempt: true,
          placement: true,
          createdAt: true,
          startedAt: true,
          finishedAt: true,
        },
      }),
      this.prisma.job.count({ where }),
    ]);
    return { rows, total };
  }

  async countsByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    const groups = await this.prisma.job.groupBy({ by: ['status'], _count: { _all: true } });
    return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
  }
}
