import { Inject, Injectable } from '@nestjs/common';
import { type LogArchiveRow, type PrismaClient, saveLogArchive } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/** A finished job, as the storage worker needs it. */
export interface JobForStorage {
  id: string;
  tenantId: string;
  namespace: string;
  attempt: number;
  /** The template's `results.patterns`; empty = keep every file. */
  patterns: string[];
}

export interface NewResultFile {
  jobId: string;
  tenantId: string;
  path: string;
  size: number;
  checksum: string;
  contentType: string;
  storageKey: string;
}

/** `result_files` and `log_archives`; every write is an upsert so a redelivered event is harmless. */
@Injectable()
export class StorageRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async job(jobId: string): Promise<JobForStorage | undefined> {
    const job = await this.prisma.job.findUnique({
      where: { id: jobId },
      select: {
        id: true,
        tenantId: true,
        attempt: true,
        templateId: true,
        tenant: { select: { namespace: true } },
      },
    });
    if (!job) return undefined;
    const template = job.templateId
      ? await this.prisma.jobTemplate.findUnique({
          where: { id: job.templateId },
          select: { spec: true },
        })
      : null;
    const patterns =
      (template?.spec as { results?: { patterns?: string[] } } | null)?.results?.patterns ?? [];
    return {
      id: job.id,
      tenantId: job.tenantId,
      namespace: job.tenant.namespace,
      attempt: job.attempt,
      patterns,
    };
  }

  /** Upserts result rows in one statement (a redelivered event rewrites the same rows). */
  async saveResults(files: readonly NewResultFile[]): Promise<void> {
    if (files.length === 0) return;
    const column = <K extends keyof NewResultFile>(key: K) => files.map((file) => file[key]);
    await this.prisma.$executeRaw`
      INSERT INTO result_files (job_id, tenant_id, path, size, checksum, content_type, storage_key)
      SELECT * FROM unnest(${column('jobId')}::uuid[], ${column('tenantId')}::text[],
        ${column('path')}::text[], ${column('size')}::bigint[], ${column('checksum')}::text[],
        ${column('contentType')}::text[], ${column('storageKey')}::text[])
      ON CONFLICT (job_id, path) DO UPDATE SET size = excluded.size, checksum = excluded.checksum,
        content_type = excluded.content_type, storage_key = excluded.storage_key`;
  }

  async archivedAttempts(jobId: string): Promise<Set<number>> {
    const rows = await this.prisma.logArchive.findMany({
      where: { jobId },
      select: { attempt: true },
    });
    return new Set(rows.map((row) => row.attempt));
  }

  saveLogArchive(row: LogArchiveRow): Promise<void> {
    return saveLogArchive(this.prisma, row);
  }

  /**
   * Result files past their tenant's `results_retention_days`, oldest first (a bounded batch:
   * the caller deletes them and asks again).
   */
  expiredResults(
    now: Date,
    limit: number,
  ): Promise<{ jobId: string; tenantId: string; path: string; storageKey: string }[]> {
    return this.prisma.$queryRaw`
      SELECT r.job_id AS "jobId", r.tenant_id AS "tenantId", r.path, r.storage_key AS "storageKey"
      FROM result_files r JOIN tenants t ON t.id = r.tenant_id
      WHERE t.results_retention_days IS NOT NULL
        AND r.created_at < ${now}::timestamptz - make_interval(days => t.results_retention_days)
      ORDER BY r.created_at LIMIT ${limit}`;
  }

  async deleteResult(jobId: string, path: string): Promise<void> {
    await this.prisma.resultFile.deleteMany({ where: { jobId, path } });
  }
}
