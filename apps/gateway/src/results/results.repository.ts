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

  /** The job's spec, for the replicas it has; null when the tenant has no such job. */
  async specOf(tenantId: string, jobId: string): Promise<unknown> {
    const row = await this.prisma.job.findFirst({
      where: { id: jobId, tenantId },
      select: { spec: true },
    });
    return row ? row.spec : null;
  }

  /** Every row, or those under `prefix` (one replica's). */
  list(tenantId: string, jobId: string, prefix?: string): Promise<ResultRow[]> {
    return this.prisma.resultFile.findMany({
      where: { tenantId, jobId, path: { startsWith: prefix } },
      orderBy: { path: 'asc' },
      select: columns,
    });
  }

  /**
   * Up to `limit` rows with a path after `after` (and under `prefix`, one replica's), in path
   * order (keyset on the primary key).
   */
  page(
    tenantId: string,
    jobId: string,
    after: string | undefined,
    limit: number,
    prefix?: string,
  ): Promise<ResultRow[]> {
    return this.prisma.resultFile.findMany({
      // Prisma leaves out a filter whose value is undefined.
      where: { tenantId, jobId, path: { gt: after, startsWith: prefix } },
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
