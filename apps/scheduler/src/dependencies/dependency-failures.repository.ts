import { Inject, Injectable } from '@nestjs/common';
import { directSql, Prisma, type PrismaClient, type RawStatements } from '@roam/db';
import { type DependencyFailurePolicy, jobStateOf } from '@roam/domain';
import type { LedgerJob } from '@roam/jobs';
import { PRISMA } from '@roam/runtime';

type Tx = Prisma.TransactionClient;

/** A dependency that can no longer be met, not handled yet, with its dependent's policy. */
export interface FailedDependency {
  id: bigint;
  tenantId: string;
  /** The dependent: a job, or a whole array. */
  jobId: string | null;
  arrayId: string | null;
  /** e.g. `job 0193… (on: succeeded)`. */
  description: string;
  policy: DependencyFailurePolicy | undefined;
}

const policyOf = (value: string | null): DependencyFailurePolicy | undefined =>
  value === 'keep' || value === 'cancel' ? value : undefined;

/** The scheduler's reads and writes for dependencies that failed (docs/pipelines.md). */
@Injectable()
export class DependencyFailuresRepository {
  private readonly sql: RawStatements;

  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {
    this.sql = directSql(prisma);
  }

  /**
   * Whether any failed dependency waits to be handled: read outside a transaction, so a pass
   * with nothing to do (nearly every pass) opens none (docs/architecture.md#direct-sql). A
   * dependency failing just after is the next pass's.
   */
  async anyFailed(): Promise<boolean> {
    const [row] = await this.sql.$queryRaw<{ waiting: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM job_dependencies WHERE state = 'failed' AND NOT handled) AS waiting`;
    return row?.waiting ?? false;
  }

  /**
   * Failed dependencies not handled yet, oldest first, read through the (state, handled) index;
   * the policy is the dependent job's spec (an array's: its element 0's, which carries it).
   */
  async failed(tx: Tx, limit: number): Promise<FailedDependency[]> {
    const rows = await tx.$queryRaw<
      {
        id: bigint;
        tenant_id: string;
        job_id: string | null;
        array_id: string | null;
        on_id: string;
        on_array: boolean;
        condition: string;
        policy: string | null;
      }[]
    >`
      SELECT d.id, d.tenant_id, d.job_id::text AS job_id, d.array_id::text AS array_id,
             coalesce(d.on_job_id, d.on_array_id)::text AS on_id,
             d.on_array_id IS NOT NULL AS on_array, d.condition,
             coalesce(j.spec, e.spec) ->> 'on_dependency_failure' AS policy
      FROM job_dependencies d
      LEFT JOIN jobs j ON j.id = d.job_id
      LEFT JOIN jobs e ON e.array_id = d.array_id AND e.array_index = 0
      WHERE d.state = 'failed' AND NOT d.handled
      ORDER BY d.id LIMIT ${limit}`;
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      jobId: row.job_id,
      arrayId: row.array_id,
      description: `${row.on_array ? 'array' : 'job'} ${row.on_id} (on: ${row.condition})`,
      policy: policyOf(row.policy),
    }));
  }

  /**
   * Unfinished jobs among `ids`, or (with `arrayId`) up to `limit` unfinished elements of the
   * array, locked for the ledger write.
   */
  /** Whether every element row of the array exists (a large array's are created after submit). */
  async allElementsCreated(tx: Tx, arrayId: string): Promise<boolean> {
    const rows = await tx.$queryRaw<{ created: boolean }[]>`
      SELECT materialized >= size AS created FROM job_arrays WHERE id = ${arrayId}::uuid`;
    return rows[0]?.created ?? true;
  }

  async lockUnfinished(
    tx: Tx,
    target: { ids: readonly string[] } | { arrayId: string; limit: number },
  ): Promise<LedgerJob[]> {
    const rows = await tx.$queryRaw<
      {
        id: string;
        tenant_id: string;
        name: string;
        attempt: number;
        seq: number;
        status: string;
        phase: string;
        reason: string | null;
        message: string | null;
      }[]
    >`
      SELECT id::text AS id, tenant_id, name, attempt, seq, status::text AS status, phase,
             reason, message
      FROM jobs
      WHERE ${
        'ids' in target
          ? Prisma.sql`id = ANY(${[...target.ids]}::uuid[])`
          : Prisma.sql`array_id = ${target.arrayId}::uuid`
      } AND status IN ('pending', 'running')
      ORDER BY id LIMIT ${'ids' in target ? target.ids.length : target.limit}
      FOR UPDATE`;
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      attempt: row.attempt,
      seq: row.seq,
      state: jobStateOf(row),
    }));
  }

  async markHandled(tx: Tx, ids: readonly bigint[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.$executeRaw`
      UPDATE job_dependencies SET handled = true WHERE id = ANY(${[...ids]}::bigint[])`;
  }
}
