import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@roam/contracts';
import type { PrismaClient, Tenant } from '@roam/db';
import { PRISMA } from '@roam/runtime';

import type { CompatJobRow } from './compat.views.js';

const compatJobFields = {
  id: true,
  tenantId: true,
  name: true,
  status: true,
  phase: true,
  reason: true,
  message: true,
  attempt: true,
  exitCode: true,
  placement: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} as const;

/** Reads for SUMO-K8's tenant routes; every method takes the tenant id. */
@Injectable()
export class CompatRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  findJob(tenantId: string, id: string): Promise<CompatJobRow | null> {
    return this.prisma.job.findFirst({ where: { id, tenantId }, select: compatJobFields });
  }

  recentJobs(tenantId: string, limit: number): Promise<CompatJobRow[]> {
    return this.prisma.job.findMany({
      where: { tenantId },
      orderBy: { id: 'desc' },
      take: limit,
      select: compatJobFields,
    });
  }

  async countsByStatus(tenantId: string): Promise<Partial<Record<JobStatus, number>>> {
    const groups = await this.prisma.job.groupBy({
      by: ['status'],
      where: { tenantId },
      _count: { _all: true },
    });
    return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
  }

  tenant(tenantId: string): Promise<Tenant | null> {
    return this.prisma.tenant.findUnique({ where: { id: tenantId } });
  }
}
