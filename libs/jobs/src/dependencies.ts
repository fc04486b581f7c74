import { Prisma } from '@roam/db';

import type { LedgerDb } from './ledger.js';

const { sql } = Prisma;

/** A job or an array, as a dependency names it. */
export type DependencyEnd = { jobId: string } | { arrayId: string };

/**
 * One dependency to record: `dependent` waits for `on` to reach `condition`. With `nToN` (the
 * size of both arrays), element i of the dependent array waits for element i of `on`.
 */
export interface NewDependency {
  dependent: DependencyEnd;
  on: DependencyEnd;
  condition: string;
  nToN?: number;
}

/** A dependency target as the submit found it, locked until the submit commits. */
export type LockedTarget =
  { kind: 'job'; id: string; phase: string } | { kind: 'array'; id: string; size: number };

/**
 * Finds the tenant's jobs and arrays among `ids` and share-locks them for the rest of the
 * transaction: a target that ends meanwhile waits for the submit to commit, so the trigger that
 * resolves dependencies on it sees the new ones (docs/architecture.md#rule-11). Another tenant's
 * id is simply not found.
 */
export async function lockDependencyTargets(
  db: LedgerDb,
  tenantId: string,
  ids: readonly string[],
): Promise<LockedTarget[]> {
  if (ids.length === 0) return [];
  const rows = await db.$queryRaw<
    { kind: 'job' | 'array'; id: string; phase: string | null; size: number | null }[]
  >`
    WITH locked_arrays AS (
      SELECT id, size FROM job_arrays
      WHERE id = ANY(${ids}::uuid[]) AND tenant_id = ${tenantId}
      ORDER BY id FOR SHARE
    ), locked_jobs AS (
      SELECT id, phase FROM jobs
      WHERE id = ANY(${ids}::uuid[]) AND tenant_id = ${tenantId}
      ORDER BY id FOR SHARE
    )
    SELECT 'array' AS kind, id::text AS id, NULL AS phase, size FROM locked_arrays
    UNION ALL
    SELECT 'job' AS kind, id::text AS id, phase, NULL AS size FROM locked_jobs`;
  return rows.map((row) =>
    row.kind === 'array'
      ? { kind: 'array', id: row.id, size: row.size ?? 0 }
      : { kind: 'job', id: row.id, phase: row.phase ?? '' },
  );
}

/**
 * Records dependencies of jobs and arrays inserted earlier in the same transaction, each with
 * its state already resolved against its target (a target that has ended may have met it, or
 * made it impossible), and adds those not met to the dependents' `deps_unmet`. One statement
 * whatever the number (an `N_TO_N` dependency is expanded by the database). Call after
 * `lockDependencyTargets`. Returns the dependent jobs (not arrays) left waiting.
 */
export async function addDependencies(
  db: LedgerDb,
  tenantId: string,
  dependencies: readonly NewDependency[],
): Promise<string[]> {
  if (dependencies.length === 0) return [];
  const input = JSON.stringify(
    dependencies.map((d) => ({
      job_id: 'jobId' in d.dependent ? d.dependent.jobId : null,
      array_id: 'arrayId' in d.dependent ? d.dependent.arrayId : null,
      on_job_id: 'jobId' in d.on ? d.on.jobId : null,
      on_array_id: 'arrayId' in d.on ? d.on.arrayId : null,
      condition: d.condition,
      n_to_n: d.nToN ?? null,
    })),
  );
  // Element i of an array has its array's id with the last 8 hex digits set to i (arrayElementId).
  const element = (column: string) =>
    sql`(left(${Prisma.raw(column)}::text, 28) || lpad(to_hex(g.i), 8, '0'))::uuid`;
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH input AS (
      SELECT job_id, array_id, on_job_id, on_array_id, condition, n_to_n
      FROM jsonb_to_recordset(${input}::jsonb) AS r(
        job_id uuid, array_id uuid, on_job_id uuid, on_array_id uuid, condition text,
        n_to_n int)
    ), expanded AS (
      SELECT job_id, array_id, on_job_id, on_array_id, condition FROM input
      WHERE n_to_n IS NULL
      UNION ALL
      SELECT ${element('i.array_id')}, NULL::uuid, ${element('i.on_array_id')}, NULL::uuid,
             i.condition
      FROM input i CROSS JOIN LATERAL generate_series(0, i.n_to_n - 1) AS g(i)
      WHERE i.n_to_n IS NOT NULL
    ), inserted AS (
      INSERT INTO job_dependencies (tenant_id, job_id, array_id, on_job_id, on_array_id,
                                    condition, state, resolved_at)
      SELECT ${tenantId}, e.job_id, e.array_id, e.on_job_id, e.on_array_id, e.condition,
             s.state, CASE WHEN s.state = 'waiting' THEN NULL ELSE now() END
      FROM expanded e
      LEFT JOIN jobs tj ON tj.id = e.on_job_id AND tj.tenant_id = ${tenantId}
      LEFT JOIN job_arrays ta ON ta.id = e.on_array_id AND ta.tenant_id = ${tenantId}
      CROSS JOIN LATERAL (
        SELECT coalesce(
          CASE WHEN e.on_job_id IS NOT NULL THEN job_dependency_outcome(e.condition, tj.phase)
               ELSE array_dependency_outcome(e.condition, ta) END,
          'waiting') AS state
      ) s
      RETURNING job_id, array_id, state
    ), blocked_arrays AS (
      UPDATE job_arrays a SET deps_unmet = a.deps_unmet + b.n
      FROM (SELECT array_id, count(*)::int AS n FROM inserted
            WHERE state <> 'met' AND array_id IS NOT NULL GROUP BY array_id) b
      WHERE a.id = b.array_id
    ), blocked_jobs AS (
      UPDATE jobs j SET deps_unmet = j.deps_unmet + b.n
      FROM (SELECT job_id, count(*)::int AS n FROM inserted
            WHERE state <> 'met' AND job_id IS NOT NULL GROUP BY job_id) b
      WHERE j.id = b.job_id
      RETURNING j.id, j.array_id
    )
    SELECT id::text AS id FROM blocked_jobs WHERE array_id IS NULL`;
  return rows.map((row) => row.id);
}
