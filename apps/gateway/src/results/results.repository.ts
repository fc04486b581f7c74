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
      select: {
        path: true,
        size: true,
        checksum: true,
        contentType: true,
        storageKey: true,
        createdAt: true,
      },
    });
  }

  find(tenantId: string, jobId: string, path: string): Promise<ResultRow | null> {
    return this.prisma.resultFile.findFirst({
      where: { tenantId, jobId, path },
      select: {
        path: true,
        size: true,
        checksum: true,
        contentType: true,
        storageKey: true,
        createdAt: true,
      },
    });
  }

  async deleteAll(tenantId: string, jobId: string): Promise<number> {
    const { count } = await this.prisma.resultFile.deleteMany({ where: { tenantId, jobId } });
    return count;
  }
}
