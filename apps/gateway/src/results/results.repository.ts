import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

export interface ResultRow {
  path: string;
  size: bigint;
  checksum: string;
  contentType: string;
  storageKey: string;
  createdAt: Date;
}

const columns = {
  path: true,
  size: true,
  checksum: true,
  contentType: true,
  storageKey: true,
  createdAt: true,
} as const;

/** Read side of `result_files`; every method takes the tenant id. */
@Injectable()
export class ResultsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async jobExists(tenantId: string, jobId: string): Promise<boolean> {
    return (await this.prisma.job.count({ where: { id: jobId, tenantId } })) > 0;
  }

  list(tenantId: string, jobId: string): Promise<ResultRow[]> {
    return this.prisma.resultFile.findMany({
      where: { tenantId, jobId },
      orderBy: { path: 'asc' },
      select: columns,
    });
  }

  /** Up to `limit` rows with a path after `after`, in path order (keyset on the primary key). */
  page(
    tenantId: string,
    jobId: string,
    after: string | undefined,
    limit: number,
  ): Promise<ResultRow[]> {
    return this.prisma.resultFile.findMany({
      where: { tenantId, jobId, ...(after === undefined ? {} : { path: { gt: after } }) },
      orderBy: { path: 'asc' },
      take: limit,
      select: columns,
    });
  }

  find(tenantId: string, jobId: string, path: string): Promise<ResultRow | null> {
    return this.prisma.resultFile.findFirst({
      where: { tenantId, jobId, path },
      select: columns,
    });
  }

  async deleteAll(tenantId: string, jobId: string): Promise<number> {
    const { count } = await this.prisma.resultFile.deleteMany({ where: { tenantId, jobId } });
    return count;
  }
}
