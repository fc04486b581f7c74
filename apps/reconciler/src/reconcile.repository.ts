import { Inject, Injectable } from '@nestjs/common';
import type { Envelope, JobSpec } from '@roam/contracts';
import { Prisma, type PrismaClient } from '@roam/db';
import { type ReconcilePlan as Plan, type ReconcileRecord as JobRecord } from '@roam/domain';
import { Outbox } from '@roam/messaging';
import { PRISMA } from '@roam/runtime';

interface Row {
  id: string;
  tenant_id: string;
  name: string;
  status: JobRecord['status'];
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
  record: JobRecord;
  plan: Plan;
  events: Envelope[];
}

@Injectable()
export class ReconcileRepository {
  constructor(
    @Inject(PRISMA) readonly prisma: PrismaClient,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async load(ids: readonly string[]): Promise<JobRecord[]> {
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
   * Applies every change in one transaction. Each update is conditional on the job's `seq`
   * and `attempt`, so a change computed from a stale read (another reconciler, a cancel in
   * between) is skipped; the skipped jobs are returned to be looked at again.
   */
  async apply(changes: readonly Change[]): Promise<{ applied: Change[]; stale: string[] }> {
    const applied: Change[] = [];
    const stale: string[] = [];
    const envelopes: Envelope[] = [];
    await this.prisma.$transaction(
      async (tx) => {
        for (const change of changes) {
          if (await this.applyOne(tx, change)) {
            applied.push(change);
            envelopes.push(...change.events);
          } else {
            stale.push(change.record.id);
          }
        }
        await this.outbox.write(tx, envelopes);
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
    await this.outbox.dispatch(envelopes);
    return { applied, stale };
  }

  private async applyOne(tx: Prisma.TransactionClient, { record, plan }: Change): Promise<boolean> {
    const last = plan.steps.at(-1);
    if (!last) {
      if (plan.set.placement === undefined || sameJson(plan.set.placement, record.placement))
        return true;
      const { count } = await tx.job.updateMany({
        where: { id: record.id, seq: record.seq, attempt: record.attempt },
        data: {
          placement:
            plan.set.placement === null
              ? Prisma.DbNull
              : (plan.set.placement as Prisma.InputJsonValue),
        },
      });
      return count === 1;
    }
    const seq = record.seq + plan.steps.length;
    const data: Prisma.JobUpdateManyMutationInput = {
      status: last.state.status,
      phase: last.state.phase,
      reason: last.state.reason ?? null,
      message: last.state.message ?? null,
      seq,
    };
    if (plan.set.exitCode !== undefined) data.exitCode = plan.set.exitCode;
    if (plan.set.startedAt !== undefined) data.startedAt = plan.set.startedAt;
    if (plan.set.finishedAt !== undefined) data.finishedAt = plan.set.finishedAt;
    if (plan.set.attempt !== undefined) data.attempt = plan.set.attempt;
    if (plan.set.retryAt !== undefined) data.retryAt = plan.set.retryAt;
    if (plan.set.admittedAt !== undefined) data.admittedAt = plan.set.admittedAt;
    if (plan.set.placement !== undefined) {
      data.placement =
        plan.set.placement === null ? Prisma.DbNull : (plan.set.placement as Prisma.InputJsonValue);
    }
    const { count } = await tx.job.updateMany({
      where: { id: record.id, seq: record.seq, attempt: record.attempt },
      data,
    });
    if (count !== 1) return false;
    await tx.jobHistory.createMany({
      data: plan.steps.map((step, index) => ({
        jobId: record.id,
        tenantId: record.tenantId,
        seq: record.seq + index + 1,
        status: step.state.status,
        phase: step.state.phase,
        reason: step.state.reason ?? null,
        message: step.state.message ?? null,
        data: { attempt: record.attempt },
      })),
    });
    return true;
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
