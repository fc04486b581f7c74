import { Inject, Injectable } from '@nestjs/common';
import { directSql, type PrismaClient, type RawStatements } from '@roam/db';
import { type JobSpec, type JobStatus, type ResultSlot, resultSlotsOf } from '@roam/contracts';
import { PRISMA } from '@roam/runtime';

/** A job as the storage worker needs it: what ran, and what is already kept of it. */
export interface JobForStorage {
  id: string;
  tenantId: string;
  namespace: string;
  status: JobStatus;
  attempt: number;
  /** The template's `results.patterns`; empty = keep every file. */
  patterns: string[];
  /** Attempts with a `log_archives` row (archived, or recorded as never archivable). */
  archived: Set<number>;
  /** When the finished job was stored; null while it is not. */
  storedAt: Date | null;
  /**
   * A multi-pod job: one archive per pod under its replica's prefix, and each replica's log
   * archived on its own; undefined otherwise.
   */
  resultSlots: ResultSlot[] | undefined;
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

export interface NewLogArchive {
  jobId: string;
  attempt: number;
  tenantId: string;
  storageKey: string;
  size: number;
  /** Why the log could not be archived and never will be; the object then says so. */
  error: string | null;
}

/** A finished job stored: its results collected, or why they could not be. */
export interface StoredJob {
  jobId: string;
  resultsError: string | null;
}

/** The storage backlog: finished jobs not stored yet, and how long the oldest has waited. */
export interface StorageBacklog {
  jobs: number;
  oldestFinishedAt: Date | null;
}

const FINISHED: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/**
 * `result_files`, `log_archives` and `stored_jobs`. Every write is an upsert or a conditional update, in one statement per
 * batch, so a redelivered event or a second run is harmless.
 */
@Injectable()
export class StorageRepository {
  /** Its statements run outside Prisma's query pipeline (docs/architecture.md#direct-sql). */
  private readonly sql: RawStatements;

  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {
    this.sql = directSql(prisma);
  }

  /** The jobs with their namespace, result patterns and archived attempts, in one query. */
  async jobs(ids: readonly string[]): Promise<JobForStorage[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.$queryRaw<
      {
        id: string;
        tenant_id: string;
        namespace: string;
        status: JobStatus;
        attempt: number;
        patterns: unknown;
        archived: number[];
        stored_at: Date | null;
        spec: JobSpec;
      }[]
    >`
      SELECT j.id, j.tenant_id, t.namespace, j.status::text AS status, j.attempt, s.stored_at,
             j.spec,
             tpl.spec -> 'results' -> 'patterns' AS patterns,
             COALESCE((SELECT array_agg(l.attempt) FROM log_archives l WHERE l.job_id = j.id),
                      '{}'::int[]) AS archived
      FROM jobs j
      JOIN tenants t ON t.id = j.tenant_id
      LEFT JOIN stored_jobs s ON s.job_id = j.id
      LEFT JOIN job_templates tpl ON tpl.id::text = j.template_id
      WHERE j.id = ANY(${ids}::uuid[])`;
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      namespace: row.namespace,
      status: row.status,
      attempt: row.attempt,
      patterns: Array.isArray(row.patterns)
        ? row.patterns.filter((p): p is string => typeof p === 'string')
        : [],
      archived: new Set(row.archived),
      storedAt: row.stored_at,
      resultSlots: resultSlotsOf(row.spec),
    }));
  }

  /** Upserts result rows in one statement (a redelivered event rewrites the same rows). */
  async saveResults(files: readonly NewResultFile[]): Promise<void> {
    if (files.length === 0) return;
    const column = <K extends keyof NewResultFile>(key: K) => files.map((file) => file[key]);
    await this.sql.$executeRaw`
      INSERT INTO result_files (job_id, tenant_id, path, size, checksum, content_type, storage_key)
      SELECT job_id, tenant_id, path, size, checksum, content_type, storage_key
      FROM unnest(${column('jobId')}::uuid[], ${column('tenantId')}::text[],
        ${column('path')}::text[], ${column('size')}::bigint[], ${column('checksum')}::text[],
        ${column('contentType')}::text[], ${column('storageKey')}::text[])
        AS f(job_id, tenant_id, path, size, checksum, content_type, storage_key)
      ON CONFLICT (job_id, path) DO UPDATE SET size = excluded.size, checksum = excluded.checksum,
        content_type = excluded.content_type, storage_key = excluded.storage_key`;
  }

  /** Result files of the job already indexed (an interrupted unpack skips them), path → size. */
  async resultSizes(jobId: string): Promise<Map<string, number>> {
    const rows = await this.prisma.resultFile.findMany({
      where: { jobId },
      select: { path: true, size: true },
    });
    return new Map(rows.map((row) => [row.path, Number(row.size)]));
  }

  /**
   * Records archived logs in one statement. An archived log replaces a recorded failure; a
   * failure never replaces an archived log.
   */
  async saveLogArchives(rows: readonly NewLogArchive[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <K extends keyof NewLogArchive>(key: K) => rows.map((row) => row[key]);
    await this.sql.$executeRaw`
      INSERT INTO log_archives (job_id, attempt, tenant_id, storage_key, size, error)
      SELECT job_id, attempt, tenant_id, storage_key, size, error
      FROM unnest(${column('jobId')}::uuid[], ${column('attempt')}::int[],
        ${column('tenantId')}::text[], ${column('storageKey')}::text[], ${column('size')}::bigint[],
        ${column('error')}::text[]) AS l(job_id, attempt, tenant_id, storage_key, size, error)
      ON CONFLICT (job_id, attempt) DO UPDATE SET storage_key = excluded.storage_key,
        size = excluded.size, error = excluded.error
      WHERE excluded.error IS NULL OR log_archives.error IS NOT NULL`;
  }

  /**
   * Marks finished jobs stored, in one statement; a job already stored keeps its first mark.
   * The insert's trigger (`stored_jobs_leave_backlog`) takes them out of `storage_backlog`.
   */
  async markStored(jobs: readonly StoredJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const ids = jobs.map((job) => job.jobId);
    await this.sql.$executeRaw`
      INSERT INTO stored_jobs (job_id, tenant_id, results_error)
      SELECT s.id, j.tenant_id, s.results_error
      FROM unnest(${ids}::uuid[],
                  ${jobs.map((job) => job.resultsError)}::text[]) AS s(id, results_error)
      JOIN jobs j ON j.id = s.id
      ON CONFLICT (job_id) DO NOTHING`;
  }

  /**
   * How many finished jobs wait to be stored, and since when: read from `storage_backlog`
   * (as large as the backlog, whatever the history). A job rerun since it was added (an
   * array's failed element) is not finished: it waits until it is. Rows of jobs stored
   * meanwhile (a finish racing the stored mark) are skipped, and deleted in the same statement.
   */
  async backlog(): Promise<StorageBacklog> {
    const [row] = await this.sql.$queryRaw<{ jobs: bigint; oldest: Date | null }[]>`
      WITH stale AS (
        DELETE FROM storage_backlog b USING stored_jobs s WHERE s.job_id = b.job_id
      )
      SELECT count(*) AS jobs, min(b.finished_at) AS oldest
      FROM storage_backlog b JOIN jobs j ON j.id = b.job_id
      WHERE j.status = ANY(${FINISHED}::"JobStatus"[])
        AND NOT EXISTS (SELECT 1 FROM stored_jobs s WHERE s.job_id = b.job_id)`;
    return { jobs: Number(row?.jobs ?? 0), oldestFinishedAt: row?.oldest ?? null };
  }

  /**
   * Jobs with something to store, oldest first: finished and not stored (`storage_backlog`),
   * or running again after a retry with an earlier attempt's log not archived (a bounded batch).
   */
  async unstored(limit: number): Promise<string[]> {
    const rows = await this.sql.$queryRaw<{ id: string }[]>`
      (SELECT j.id FROM storage_backlog b JOIN jobs j ON j.id = b.job_id
       WHERE j.status = ANY(${FINISHED}::"JobStatus"[])
         AND NOT EXISTS (SELECT 1 FROM stored_jobs s WHERE s.job_id = b.job_id)
       ORDER BY b.finished_at NULLS FIRST LIMIT ${limit})
      UNION
      (SELECT j.id FROM jobs j
       WHERE j.status IN ('pending', 'running') AND j.attempt > 1
         AND (SELECT count(*) FROM log_archives l WHERE l.job_id = j.id AND l.attempt < j.attempt)
             < j.attempt - 1
       LIMIT ${limit})`;
    return rows.map((row) => row.id);
  }

  /**
   * Result files past their tenant's `results_retention_days`, oldest first (a bounded batch:
   * the caller deletes them and asks again).
   */
  expiredResults(
    now: Date,
    limit: number,
  ): Promise<{ jobId: string; tenantId: string; path: string; storageKey: string }[]> {
    return this.sql.$queryRaw`
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
