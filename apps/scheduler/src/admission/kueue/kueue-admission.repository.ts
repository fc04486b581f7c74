import { Inject, Injectable } from '@nestjs/common';
import type { JobSpec } from '@roam/contracts';
import type { AdmissionWindow, PrismaClient, RawStatements } from '@roam/db';
import { jobStateOf } from '@roam/domain';
import type { LedgerJob } from '@roam/jobs';
import { PRISMA } from '@roam/runtime';

/** The admission cycle's transaction (`AdmissionRepository.withAdmissionLock`). */
type Tx = RawStatements;

/** A job Kueue has still to admit or start, with what its Kubernetes Job needs. */
export interface KueueRow {
  job: LedgerJob;
  namespace: string;
  spec: JobSpec;
  inputsKey: string | null;
  /** Set once its (suspended) Kubernetes Job was confirmed created. */
  created: boolean;
  /** Preemptions so far (a Kueue preemption adds one). */
  preemptions: number;
  /** Its attempt is a JobSet (`replicated_jobs`), not a Job. */
  jobSet: boolean;
}

interface PendingRow {
  id: string;
  tenant_id: string;
  namespace: string;
  name: string;
  attempt: number;
  seq: number;
  status: string;
  phase: string;
  reason: string | null;
  spec: JobSpec;
  inputs_key: string | null;
  created: boolean;
  preemptions: number;
  job_set: boolean;
}

@Injectable()
export class KueueAdmissionRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  /**
   * Pending jobs of ready tenants whose retry backoff (if any) is over: those waiting for
   * Kueue and those admitted but not running yet (Kueue may evict them). Each tenant's oldest
   * `window.perTenant` first, so one tenant's backlog never keeps another's jobs from reaching
   * Kueue; `window.total` in all. Read in the admission transaction, so each row's seq guards
   * the ledger write.
   */
  async pending(tx: Tx, window: AdmissionWindow): Promise<KueueRow[]> {
    const rows = await tx.$queryRaw<PendingRow[]>`
      SELECT j.id::text AS id, t.id AS tenant_id, t.namespace, j.name, j.attempt, j.seq,
             j.status::text AS status, j.phase, j.reason, j.spec, j.inputs_key,
             j.placement IS NOT NULL AS created, j.preemptions,
             j.spec ? 'replicated_jobs' AS job_set
      FROM tenants t CROSS JOIN LATERAL (
        SELECT q.id, q.name, q.attempt, q.seq, q.status, q.phase, q.reason, q.spec,
               q.inputs_key, q.placement, q.created_at, q.preemptions
        FROM jobs q
        WHERE q.tenant_id = t.id AND q.status = 'pending' AND q.deps_unmet = 0
          AND (q.retry_at IS NULL OR q.retry_at <= now())
          AND (q.array_id IS NULL OR EXISTS (
            SELECT 1 FROM job_arrays a
            WHERE a.id = q.array_id AND a.deps_unmet = 0 AND a.cancel_requested_at IS NULL))
        ORDER BY q.created_at, q.id LIMIT ${window.perTenant}
      ) j
      WHERE t.status = 'ready'
      ORDER BY j.created_at, j.id LIMIT ${window.total}`;
    return rows.map((row) => this.toRow(row));
  }

  /**
   * The running jobs among `jobs` (id and attempt) not offloaded: those whose Workload Kueue
   * evicted are put back in the queue. Read in the admission transaction.
   */
  async running(tx: Tx, jobs: readonly { id: string; attempt: number }[]): Promise<KueueRow[]> {
    if (jobs.length === 0) return [];
    const rows = await tx.$queryRaw<PendingRow[]>`
      SELECT j.id::text AS id, t.id AS tenant_id, t.namespace, j.name, j.attempt, j.seq,
             j.status::text AS status, j.phase, j.reason, j.spec, j.inputs_key,
             j.placement IS NOT NULL AS created, j.preemptions,
             j.spec ? 'replicated_jobs' AS job_set
      FROM jobs j JOIN tenants t ON t.id = j.tenant_id
      JOIN unnest(${jobs.map((j) => j.id)}::uuid[], ${jobs.map((j) => j.attempt)}::int[])
        AS v(id, attempt) ON v.id = j.id AND v.attempt = j.attempt
      WHERE j.status = 'running' AND j.reason IS DISTINCT FROM 'Offloaded'`;
    return rows.map((row) => this.toRow(row));
  }

  /** What the roam AdmissionCheck needs to mint one attempt's URLs; undefined when gone. */
  async forCheck(id: string) {
    const job = await this.prisma.job.findUnique({
      where: { id },
      select: { tenantId: true, attempt: true, status: true, spec: true, inputsKey: true },
    });
    return job ? { ...job, spec: job.spec as unknown as JobSpec } : undefined;
  }

  private toRow(row: PendingRow): KueueRow {
    return {
      job: {
        id: row.id,
        tenantId: row.tenant_id,
        name: row.name,
        attempt: row.attempt,
        seq: row.seq,
        state: jobStateOf(row),
      },
      namespace: row.namespace,
      spec: row.spec,
      inputsKey: row.inputs_key,
      created: row.created,
      preemptions: row.preemptions,
      jobSet: row.job_set,
    };
  }
}
