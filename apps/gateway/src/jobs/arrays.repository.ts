import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@roam/contracts';
import { type JobArray, Prisma, type PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

import type { JobRow } from './jobs.repository.js';

export type ArrayRow = JobArray;

/** Job arrays of one tenant: their counters (kept by the database) and their elements. */
@Injectable()
export class ArraysRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  find(tenantId: string, id: string): Promise<ArrayRow | null> {
    return this.prisma.jobArray.findFirst({ where: { id, tenantId } });
  }

  /** Newest first (ids are UUIDv7), before `before`, through the (tenant_id, id) index. */
  list(tenantId: string, query: { before?: string; limit: number }): Promise<ArrayRow[]> {
    return this.prisma.jobArray.findMany({
      where: { tenantId, ...(query.before !== undefined ? { id: { lt: query.before } } : {}) },
      orderBy: { id: 'desc' },
      take: query.limit,
    });
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

  /** Records a cancel for the reconciler to finish (the first request's time is kept). */
  async requestCancel(tenantId: string, id: string): Promise<ArrayRow | null> {
    await this.prisma.jobArray.updateMany({
      where: { id, tenantId, cancelRequestedAt: null },
      data: { cancelRequestedAt: new Date() },
    });
    return this.find(tenantId, id);
  }

  /**
   * Forgets a cancel that is done (every element has ended; the caller holds the array's lock):
   * elements run again afterwards (a retry of the failed ones) are neither held back from
   * admission nor cancelled by the reconciler's walk.
   */
  async clearCancel(tx: Prisma.TransactionClient, tenantId: string, id: string): Promise<void> {
    await tx.$executeRaw`
      UPDATE job_arrays SET cancel_requested_at = NULL
      WHERE id = ${id}::uuid AND tenant_id = ${tenantId} AND cancel_requested_at IS NOT NULL`;
  }

  /** The array's row, locked for the rest of the transaction. */
  async lock(tx: Prisma.TransactionClient, tenantId: string, id: string): Promise<ArrayRow | null> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM job_arrays WHERE id = ${id}::uuid AND tenant_id = ${tenantId}
      FOR UPDATE`;
    return rows.length === 0 ? null : tx.jobArray.findUnique({ where: { id } });
  }
}
