import { Inject, Injectable } from '@nestjs/common';
import type { JobSpec } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
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
    case 'failed':
      if (step.state.phase !== 'Failed') throw new Error(`a failed step in ${step.state.phase}`);
      return { type: 'fail', reason: step.state.reason, message };
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
  seq: number;
  spec: JobSpec;
  placement: Record<string, unknown> | null;
  admitted_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  cleanup_at: Date | null;
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
  }

  private readonly ledger: JobLedger;

  async load(ids: readonly string[]): Promise<ReconcileRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.$queryRaw<Row[]>`
      SELECT id, tenant_id, name, status::text AS status, phase, reason, message, attempt, seq, spec, placement,
             admitted_at, started_at, finished_at, cleanup_at
      FROM jobs WHERE id = ANY(${ids}::uuid[])`;
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      status: row.status,
      phase: row.phase,
      reason: row.reason,
      message: row.message,
      attempt: row.attempt,
      seq: row.seq,
      spec: row.spec,
      placement: row.placement,
      admittedAt: row.admitted_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      cleanupAt: row.cleanup_at,
    }));
  }

  /** Ids of jobs admitted or running, a page at a time (keyset on id). */
  async activeIds(after: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id FROM jobs
      WHERE ((status = 'pending' AND admitted_at IS NOT NULL) OR status = 'running')
        AND id > ${after ?? '00000000-0000-0000-0000-000000000000'}::uuid
      ORDER BY id LIMIT ${limit}`;
    return rows.map((row) => row.id);
  }

  /**
   * Applies every change in one transaction, through the ledger: one statement for the batch.
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
    const result = await this.prisma.$transaction((tx) => this.ledger.apply(tx, writes), {
      timeout: 60_000,
      maxWait: 10_000,
    });
    await this.outbox.dispatch(result.envelopes);
    for (const written of [...result.written, ...result.unchanged.map((change) => ({ change }))])
      applied.push(byId.get(written.change.job.id)!);
    const stale = [
      ...result.stale.map((change) => change.job.id),
      ...result.rejected.map(({ change }) => change.job.id),
    ];
    return { applied, stale };
  }

  async markCleaned(jobId: string): Promise<void> {
    await this.prisma.job.updateMany({
      where: { id: jobId, cleanupAt: null },
      data: { cleanupAt: new Date() },
    });
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
