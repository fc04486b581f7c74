import { Inject, Injectable } from '@nestjs/common';
import type { JobSpec } from '@roam/contracts';
import {
  type AdmissionWindow,
  directSql,
  directTransaction,
  type InFlightJob,
  inFlightJobs,
  pendingJobs,
  type PrismaClient,
  type RawStatements,
  runningJobs,
  tenantStates,
} from '@roam/db';
import {
  type AdmittedCapacity,
  jobStateOf,
  type NodeState,
  type PendingJob,
  type SliceLayout,
  sliceLayout,
  type RunningJob,
  type TenantState,
} from '@roam/domain';
import type { LedgerJob } from '@roam/jobs';
import { PRISMA } from '@roam/runtime';

import { withAdmittedCapacity, withAdmittedPools } from './flavor-placement.js';

/** The admission cycle's transaction: raw statements on one connection (`directTransaction`). */
type Tx = RawStatements;

/** Admission decisions are made by one scheduler at a time (docs/architecture.md#rule-4). */
const ADMISSION_LOCK = 7_261_001;

export interface AdmittedRow {
  id: string;
  tenantId: string;
  namespace: string;
  name: string;
  attempt: number;
  seq: number;
  spec: JobSpec;
  /** The uploaded input archive, if any (the pod's fetcher needs it). */
  inputsKey: string | null;
  /** ROAM_ADMISSION=kueue: the LocalQueue its Job is created suspended in. */
  kueueQueue?: string;
  /** ROAM_ADMISSION=kueue: the WorkloadPriorityClass its Job names. */
  kueuePriorityClass?: string;
  /** The capacity admission placed a `prefer-spot` job on; its pod template binds to it. */
  admittedCapacity?: AdmittedCapacity;
  /** The node pool admission placed each TPU slice on, in slice order; its pods bind to it. */
  admittedPools?: string[];
  /** A TPU job's slice as it lays out on the cluster's nodes (`withSliceLayouts`). */
  slice?: SliceLayout;
}

/** An admitted job as `admit` and `unconfirmed` read it. */
interface AdmittedSqlRow {
  id: string;
  tenant_id: string;
  namespace: string;
  name: string;
  attempt: number;
  seq: number;
  spec: JobSpec;
  inputs_key: string | null;
  admitted_capacity: string | null;
  admitted_pools: unknown;
}

/**
 * The rows with each TPU job's slice layout on these nodes (hosts, chips per host), which its
 * Kubernetes objects are built from: the layout admission counted the job by.
 */
export function withSliceLayouts(
  rows: readonly AdmittedRow[],
  nodes: () => readonly NodeState[],
): AdmittedRow[] {
  if (!rows.some((row) => row.spec.resources.tpu)) return [...rows];
  const all = nodes();
  return rows.map((row) =>
    row.spec.resources.tpu ? { ...row, slice: sliceLayout(row.spec.resources.tpu, all) } : row,
  );
}

const toAdmitted = (row: AdmittedSqlRow): AdmittedRow => ({
  id: row.id,
  tenantId: row.tenant_id,
  namespace: row.namespace,
  name: row.name,
  attempt: row.attempt,
  seq: row.seq,
  spec: row.spec,
  inputsKey: row.inputs_key,
  ...withAdmittedCapacity(row.admitted_capacity),
  ...withAdmittedPools(row.admitted_pools),
});

/** A job to preempt, as the ledger needs it, with where its Kubernetes objects live. */
export interface PreemptableRow {
  job: LedgerJob;
  namespace: string;
  preemptions: number;
  /** It runs as a JobSet (its spec has replicated jobs), as `attemptManifest` made it. */
  jobSet: boolean;
}

/** A job admission just decided on, as the ledger needs it, with what its Kubernetes Job needs. */
export interface DecidedRow {
  job: LedgerJob;
  namespace: string;
  spec: JobSpec;
  inputsKey: string | null;
}

@Injectable()
export class AdmissionRepository {
  /** Its statements run outside Prisma's query pipeline (docs/architecture.md#direct-sql). */
  private readonly sql: RawStatements;

  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {
    this.sql = directSql(prisma);
  }

  /** Runs `work` holding the admission lock; undefined when another scheduler holds it. */
  async withAdmissionLock<T>(work: (tx: Tx) => Promise<T>): Promise<T | undefined> {
    return directTransaction(
      this.prisma,
      async (tx) => {
        const [row] = await tx.$queryRaw<
          { locked: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(${ADMISSION_LOCK}) AS locked`;
        if (!row?.locked) return undefined;
        return work(tx);
      },
      { timeoutMs: 60_000 },
    );
  }

  /** Ready tenants with what they hold (the reading `explain` uses too). */
  tenants(tx: Tx): Promise<TenantState[]> {
    return tenantStates(tx);
  }

  /** Admitted and running jobs one by one, by tenant: what preemption chooses from. */
  running(tx: Tx): Promise<Map<string, (RunningJob & { attempt: number })[]>> {
    return runningJobs(tx);
  }

  /**
   * Jobs a cycle preempts, read again in its transaction for the ledger: only those still
   * admitted or running (one that finished meanwhile is left alone). One statement.
   */
  async preemptable(tx: Tx, ids: readonly string[]): Promise<PreemptableRow[]> {
    if (ids.length === 0) return [];
    const rows = await tx.$queryRaw<
      {
        id: string;
        tenant_id: string;
        namespace: string;
        name: string;
        attempt: number;
        preemptions: number;
        seq: number;
        status: string;
        phase: string;
        reason: string | null;
        message: string | null;
        placement: Record<string, unknown> | null;
        job_set: boolean;
      }[]
    >`
      SELECT j.id::text AS id, j.tenant_id, t.namespace, j.name, j.attempt, j.preemptions, j.seq,
             j.status::text AS status, j.phase, j.reason, j.message, j.placement,
             j.spec ? 'replicated_jobs' AS job_set
      FROM jobs j JOIN tenants t ON t.id = j.tenant_id
      WHERE j.id = ANY(${ids}::uuid[]) AND j.status IN ('pending', 'running')
        AND j.admitted_at IS NOT NULL`;
    return rows.map((row) => ({
      job: {
        id: row.id,
        tenantId: row.tenant_id,
        name: row.name,
        attempt: row.attempt,
        seq: row.seq,
        state: jobStateOf(row),
        placement: row.placement,
      },
      namespace: row.namespace,
      preemptions: row.preemptions,
      jobSet: row.job_set,
    }));
  }

  /** Admitted jobs not yet running (their pods may not be bound yet). */
  inFlight(tx: Tx): Promise<InFlightJob[]> {
    return inFlightJobs(tx);
  }

  /** Jobs waiting for admission, and the phase/reason each was last given. */
  async pending(
    tx: Tx,
    window: AdmissionWindow,
  ): Promise<{ jobs: PendingJob[]; state: Map<string, { phase: string; reason: string | null }> }> {
    const rows = await pendingJobs(tx, window);
    const state = new Map(rows.map((row) => [row.id, { phase: row.phase, reason: row.reason }]));
    return { jobs: rows, state };
  }

  /**
   * The jobs a cycle decided on, read again in its transaction for the ledger (their seq
   * guards the write); only those still pending and unadmitted. One statement.
   */
  async decided(tx: Tx, ids: readonly string[]): Promise<DecidedRow[]> {
    if (ids.length === 0) return [];
    const rows = await tx.$queryRaw<
      {
        id: string;
        tenant_id: string;
        namespace: string;
        name: string;
        attempt: number;
        seq: number;
        status: string;
        phase: string;
        reason: string | null;
        message: string | null;
        spec: JobSpec;
        inputs_key: string | null;
      }[]
    >`
      SELECT j.id::text AS id, j.tenant_id, t.namespace, j.name, j.attempt, j.seq,
             j.status::text AS status, j.phase, j.reason, j.message, j.spec, j.inputs_key
      FROM jobs j JOIN tenants t ON t.id = j.tenant_id
      WHERE j.id = ANY(${ids}::uuid[]) AND j.status = 'pending' AND j.admitted_at IS NULL`;
    return rows.map((row) => ({
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
    }));
  }

  /** Admitted jobs whose Kubernetes Job was not confirmed created (a crash, an API error). */
  async unconfirmed(olderThanMs: number, limit: number): Promise<AdmittedRow[]> {
    const rows = await this.sql.$queryRaw<AdmittedSqlRow[]>`
      SELECT j.id, j.tenant_id, t.namespace, j.name, j.attempt, j.seq, j.spec, j.inputs_key,
             j.admitted_capacity, j.admitted_pools
      FROM jobs j JOIN tenants t ON t.id = j.tenant_id
      WHERE j.status = 'pending' AND j.admitted_at IS NOT NULL AND j.placement IS NULL
        AND j.admitted_at < now() - make_interval(secs => ${olderThanMs / 1000})
      ORDER BY j.admitted_at LIMIT ${limit}`;
    return rows.map(toAdmitted);
  }

  /** Records where each created Job lives; the reconciler fills in pod and node later. */
  async confirmCreated(
    created: readonly { id: string; attempt: number; namespace: string; job: string }[],
  ): Promise<void> {
    if (created.length === 0) return;
    await this.sql.$executeRaw`
      UPDATE jobs j SET placement = jsonb_build_object('namespace', v.namespace, 'job', v.job), updated_at = now()
      FROM (SELECT unnest(${created.map((c) => c.id)}::uuid[]) AS id,
                   unnest(${created.map((c) => c.attempt)}::int[]) AS attempt,
                   unnest(${created.map((c) => c.namespace)}::text[]) AS namespace,
                   unnest(${created.map((c) => c.job)}::text[]) AS job) v
      WHERE j.id = v.id AND j.attempt = v.attempt AND j.placement IS NULL`;
  }
}
