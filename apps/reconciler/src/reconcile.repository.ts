import { Inject, Injectable } from '@nestjs/common';
import type { JobSpec } from '@roam/contracts';
import { directSql, type PrismaClient, type RawStatements } from '@roam/db';
import {
  type JobEvent,
  jobStateOf,
  type ReconcilePlan,
  type ReconcileRecord,
  type ReconcileStep,
} from '@roam/domain';
import { type JobChange, JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { PRISMA } from '@roam/runtime';

import { SOURCE } from './source.js';

/** The domain event behind a planned step (the plan ran it through the same state machine). */
function eventOf(step: ReconcileStep): JobEvent {
  const { message } = step.state;
  switch (step.event) {
    case 'started':
      return { type: 'start', message };
    case 'succeeded':
      return { type: 'succeed', message };
    case 'retried':
      return { type: 'retry', message };
    case 'requeued':
      if (step.state.phase !== 'Queued' || step.state.reason !== 'CapacityLost')
        throw new Error(`a requeued step in ${step.state.phase}/${step.state.reason ?? '-'}`);
      return { type: 'requeue', reason: step.state.reason, message };
    case 'failed':
      if (step.state.phase !== 'Failed') throw new Error(`a failed step in ${step.state.phase}`);
      return { type: 'fail', reason: step.state.reason, message };
    case 'restarted':
      return { type: 'restart', restarts: step.restarts ?? 1, message };
  }
}

interface Row {
  id: string;
  tenant_id: string;
  name: string;
  status: ReconcileRecord['status'];
  phase: string;
  reason: string | null;
  message: string | null;
  attempt: number;
  requeues: number;
  preemptions: number;
  restarts: number;
  attempt_restarts: number;
  restarts_attempt: number | null;
  seq: number;
  spec: JobSpec;
  placement: Record<string, unknown> | null;
  admitted_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  cleanup_at: Date | null;
  stored_at: Date | null;
  updated_at: Date;
  archived: number[];
}

export interface Change {
  record: ReconcileRecord;
  plan: ReconcilePlan;
}

@Injectable()
export class ReconcileRepository {
  constructor(
    @Inject(PRISMA) readonly prisma: PrismaClient,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
    this.sql = directSql(prisma);
  }

  private readonly ledger: JobLedger;
  /** Its statements run outside Prisma's query pipeline (docs/architecture.md#direct-sql). */
  private readonly sql: RawStatements;

  /** The jobs, with what the storage worker has kept of them (archived attempts, stored_at). */
  async load(ids: readonly string[]): Promise<ReconcileRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.$queryRaw<Row[]>`
      SELECT j.id, j.tenant_id, j.name, j.status::text AS status, j.phase, j.reason, j.message,
             j.attempt, j.requeues, j.preemptions, j.restarts, j.attempt_restarts,
             j.restarts_attempt, j.seq, j.spec, j.placement, j.admitted_at, j.started_at, j.finished_at,
             j.cleanup_at, s.stored_at, j.updated_at,
             COALESCE((SELECT array_agg(l.attempt) FROM log_archives l WHERE l.job_id = j.id),
                      '{}'::int[]) AS archived
      FROM jobs j LEFT JOIN stored_jobs s ON s.job_id = j.id
      WHERE j.id = ANY(${ids}::uuid[])`;
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      status: row.status,
      phase: row.phase,
      reason: row.reason,
      message: row.message,
      attempt: row.attempt,
      requeues: row.requeues,
      preemptions: row.preemptions,
      restarts: row.restarts,
      attemptRestarts: row.attempt_restarts,
      restartsAttempt: row.restarts_attempt,
      seq: row.seq,
      spec: row.spec,
      placement: row.placement,
      admittedAt: row.admitted_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      cleanupAt: row.cleanup_at,
      storedAt: row.stored_at,
      archivedAttempts: row.archived,
      changedAt: row.updated_at,
    }));
  }

  /**
   * Ids of the jobs a resync looks at, a page at a time (keyset on id): running, admitted with
   * their Job confirmed, or with a Job created while they wait in Kueue. An admitted job whose
   * Job is not confirmed yet is left out: until its Job exists there is nothing to reconcile
   * (`planReconcile` does nothing for it), and a Job the informers hold brings its job in
   * anyway. In a burst thousands wait for their Job, and each resync read them all again.
   * The condition is a part of `jobs_active_idx`'s, which the read goes through.
   */
  async activeIds(after: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.sql.$queryRaw<{ id: string }[]>`
      SELECT id FROM jobs
      WHERE ((status = 'pending' AND placement IS NOT NULL) OR status = 'running')
        AND id > ${after ?? '00000000-0000-0000-0000-000000000000'}::uuid
      ORDER BY id LIMIT ${limit}`;
    return rows.map((row) => row.id);
  }

  /**
   * Applies every change through the ledger: one statement for the batch, atomic by itself.
   * Each write is conditional on the job's `seq` (which moves with every attempt), so a change
   * computed from a stale read (another reconciler, a cancel in between) is skipped; the
   * skipped jobs are returned to be looked at again.
   */
  async apply(changes: readonly Change[]): Promise<{ applied: Change[]; stale: string[] }> {
    const applied: Change[] = [];
    const writes: JobChange[] = [];
    const byId = new Map<string, Change>();
    for (const change of changes) {
      const { record, plan } = change;
      // Placement alone, unchanged: nothing to write.
      if (
        plan.steps.length === 0 &&
        (plan.set.placement === undefined || sameJson(plan.set.placement, record.placement))
      ) {
        applied.push(change);
        continue;
      }
      byId.set(record.id, change);
      writes.push({
        job: {
          id: record.id,
          tenantId: record.tenantId,
          name: record.name,
          attempt: record.attempt,
          seq: record.seq,
          state: jobStateOf(record),
          placement: record.placement,
        },
        events: plan.steps.map(eventOf),
        set: plan.set,
      });
    }
    if (writes.length === 0) return { applied, stale: [] };
    const result = await this.ledger.apply(this.sql, writes);
    await this.outbox.dispatch(result.envelopes);
    for (const written of [...result.written, ...result.unchanged.map((change) => ({ change }))])
      applied.push(byId.get(written.change.job.id)!);
    const stale = [
      ...result.stale.map((change) => change.job.id),
      ...result.rejected.map(({ change }) => change.job.id),
    ];
    return { applied, stale };
  }

  /**
   * Records that the current attempts' Jobs were deleted: one statement for the batch. Only
   * where that attempt is still the job's: a failed attempt whose retry the same pass started
   * (an image pull that failed, say) leaves the new attempt's Job to be cleaned in its turn.
   */
  async markCleaned(deleted: readonly { jobId: string; attempt: number }[]): Promise<void> {
    if (deleted.length === 0) return;
    const ids = deleted.map((d) => d.jobId);
    const attempts = deleted.map((d) => d.attempt);
    await this.sql.$executeRaw`
      UPDATE jobs j SET cleanup_at = now()
      FROM unnest(${ids}::uuid[], ${attempts}::int[]) AS d(id, attempt)
      WHERE j.id = d.id AND j.attempt = d.attempt AND j.cleanup_at IS NULL`;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
