import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/** One result file of a dependency, and where it goes under `inputs/deps/`. */
export interface DependencyResultFile {
  /** The dependency: a job's id, or an array's for each of its elements. */
  target: string;
  /** The element's index when the dependency is an array. */
  index: number | null;
  path: string;
  storageKey: string;
}

/** What a job's dependencies hold in results, read before any file is listed. */
export interface DependencyResultsSummary {
  files: number;
  bytes: bigint;
  /** Dependency jobs that ended with results the storage worker has not collected yet. */
  unstored: number;
}

/**
 * The dependencies of a job (its own rows, its array's, and for an element its N_TO_N rows)
 * expanded to their jobs: a whole array's elements, found through `jobs (array_id, array_index)`.
 * Every read is bounded to the job's tenant.
 */
const targetJobs = (jobId: string, tenantId: string): Prisma.Sql => Prisma.sql`
  WITH dependent AS (SELECT id, array_id FROM jobs WHERE id = ${jobId}::uuid AND tenant_id = ${tenantId}),
  deps AS (
    SELECT d.on_job_id, d.on_array_id FROM job_dependencies d, dependent
    WHERE d.tenant_id = ${tenantId} AND (d.job_id = dependent.id OR d.array_id = dependent.array_id)
  ),
  targets AS (
    SELECT j.id AS target, NULL::int AS idx, j.id AS job_id, j.status::text AS status
    FROM deps JOIN jobs j ON j.id = deps.on_job_id AND j.tenant_id = ${tenantId}
    UNION ALL
    SELECT deps.on_array_id, j.array_index, j.id, j.status::text
    FROM deps JOIN jobs j ON j.array_id = deps.on_array_id AND j.tenant_id = ${tenantId}
  )`;

@Injectable()
export class DependencyInputsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Counts and bytes of the dependencies' result files, and how many are not stored yet. */
  async summary(jobId: string, tenantId: string): Promise<DependencyResultsSummary> {
    const [row] = await this.prisma.$queryRaw<
      { files: bigint; bytes: bigint | null; unstored: bigint }[]
    >`${targetJobs(jobId, tenantId)}
      SELECT (SELECT count(*) FROM targets t JOIN result_files r ON r.job_id = t.job_id) AS files,
             (SELECT sum(r.size) FROM targets t JOIN result_files r ON r.job_id = t.job_id)::bigint AS bytes,
             (SELECT count(*) FROM targets t
              WHERE t.status IN ('succeeded', 'failed')
                AND NOT EXISTS (SELECT 1 FROM stored_jobs s WHERE s.job_id = t.job_id)) AS unstored`;
    return {
      files: Number(row?.files ?? 0),
      bytes: row?.bytes ?? 0n,
      unstored: Number(row?.unstored ?? 0),
    };
  }

  /** The result files themselves, ordered by dependency, element and path; at most `limit`. */
  async files(jobId: string, tenantId: string, limit: number): Promise<DependencyResultFile[]> {
    const rows = await this.prisma.$queryRaw<
      { target: string; idx: number | null; path: string; storage_key: string }[]
    >`${targetJobs(jobId, tenantId)}
      SELECT t.target::text AS target, t.idx, r.path, r.storage_key
      FROM targets t JOIN result_files r ON r.job_id = t.job_id
      ORDER BY t.target, t.idx NULLS FIRST, r.path LIMIT ${limit}`;
    return rows.map((row) => ({
      target: row.target,
      index: row.idx,
      path: row.path,
      storageKey: row.storage_key,
    }));
  }
}
