import type { Prisma, PrismaClient } from './generated/prisma/client.js';

export interface LogArchiveRow {
  jobId: string;
  attempt: number;
  tenantId: string;
  storageKey: string;
  size: number;
}

/**
 * Records where an attempt's log was archived (the storage worker for cluster pods, the offload
 * worker for RunPod pods). Idempotent: archiving an attempt again points at the new object.
 */
export async function saveLogArchive(
  db: Prisma.TransactionClient | PrismaClient,
  row: LogArchiveRow,
): Promise<void> {
  const data = { ...row, size: BigInt(row.size) };
  await db.logArchive.upsert({
    where: { jobId_attempt: { jobId: row.jobId, attempt: row.attempt } },
    create: data,
    update: { storageKey: data.storageKey, size: data.size, error: null },
  });
}
