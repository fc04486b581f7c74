import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/** What the log routes need to know about a job. */
export interface JobForLogs {
  id: string;
  tenantId: string;
  status: JobStatus;
  attempt: number;
  placement: unknown;
  /** The JobSpec, for a multi-pod job's replicas. */
  spec: unknown;
}

/** Read-only; every method takes the tenant id, so another tenant's job is not found. */
@Injectable()
export class JobLogsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  find(tenantId: string, id: string): Promise<JobForLogs | null> {
    return this.prisma.job.findFirst({
      where: { id, tenantId },
      select: {
        id: true,
        tenantId: true,
        status: true,
        attempt: true,
        placement: true,
        spec: true,
      },
    });
  }

  async status(tenantId: string, id: string): Promise<JobStatus | undefined> {
    const row = await this.prisma.job.findFirst({
      where: { id, tenantId },
      select: { status: true },
    });
    return row?.status;
  }

  async archiveKey(tenantId: string, jobId: string, attempt: number): Promise<string | undefined> {
    const row = await this.prisma.logArchive.findFirst({
      where: { tenantId, jobId, attempt },
      select: { storageKey: true },
    });
    return row?.storageKey;
  }
}
