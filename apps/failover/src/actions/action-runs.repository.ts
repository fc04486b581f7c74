import { metrics } from '@roam/telemetry';
import { Inject, Injectable } from '@nestjs/common';
import type { Action, ActionStep, Prisma, PrismaClient } from '@roam/db';
import type { Tx } from '@roam/messaging';
import { APP_CONFIG, PRISMA } from '@roam/runtime';

import type { RoamJobFacts } from '@roam/domain';

export type ActionRow = Action;
export type StepRow = ActionStep;

const json = (value: unknown) => value as Prisma.InputJsonValue;

/** Postgres access for running actions: claims, steps and outcomes; no decisions here. */
@Injectable()
export class ActionRunsRepository {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: { ACTION_LOCK_TIMEOUT_MS?: number },
  ) {}

  /**
   * Runs `work` while holding this action's transaction-scoped advisory lock, so one worker at
   * a time runs an action (single writer). The lock dies with the connection, so a worker
   * killed mid-action frees it at once. `work` writes through other connections, so every step
   * it records is committed as it goes, not when the lock is released. Returns false (without
   * running `work`) when another worker holds the action.
   */
  async withActionLock(id: string, work: () => Promise<void>): Promise<boolean> {
    const timeout = this.config.ACTION_LOCK_TIMEOUT_MS ?? 15 * 60_000;
    return this.prisma.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<{ locked: boolean }[]>`
          SELECT pg_try_advisory_xact_lock(hashtextextended(${`roam:action:${id}`}, 0)) AS locked`;
        if (!row?.locked) return false;
        await work();
        return true;
      },
      { timeout, maxWait: 10_000 },
    );
  }

  find(id: string): Promise<ActionRow | null> {
    return this.prisma.action.findUnique({ where: { id } });
  }

  steps(id: string): Promise<StepRow[]> {
    return this.prisma.actionStep.findMany({ where: { actionId: id }, orderBy: { index: 'asc' } });
  }

  async unfinishedIds(limit: number): Promise<string[]> {
    const rows = await this.prisma.action.findMany({
      where: { state: { in: ['pending', 'running'] } },
      orderBy: { createdAt: 'asc' },
      select: { id: true },
      take: limit,
    });
    return rows.map((row) => row.id);
  }

  /** roam jobs placed on these nodes and not finished, with their tenants. */
  async roamJobsOn(nodes: readonly string[]): Promise<RoamJobFacts[]> {
    if (nodes.length === 0) return [];
    const rows = await this.prisma.$queryRaw<
      { id: string; tenant_id: string; name: string; status: string; node: string }[]
    >`
      SELECT id::text AS id, tenant_id, name, status::text AS status, placement->>'node' AS node
      FROM jobs
      WHERE placement->>'node' = ANY(${[...nodes]}::text[]) AND status IN ('pending', 'running')
      ORDER BY created_at, id`;
    return rows.map((row) => ({
      jobId: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      status: row.status,
      node: row.node,
    }));
  }

  /**
   * Claims a pending action (conditional update: only if still pending) and records its plan
   * and steps, all in the caller's transaction. Returns false when someone else claimed it.
   */
  async startPlanned(
    tx: Tx,
    id: string,
    plan: unknown,
    steps: { name: string; detail: unknown }[],
    now: Date,
  ): Promise<boolean> {
    const claimed = await tx.action.updateMany({
      where: { id, state: 'pending' },
      data: { state: 'running', plan: json(plan), startedAt: now },
    });
    if (claimed.count !== 1) return false;
    await tx.actionStep.createMany({
      data: steps.map((step, index) => ({
        actionId: id,
        index,
        name: step.name,
        detail: json(step.detail),
      })),
    });
    return true;
  }

  /** Ends an action (succeeded or failed) if it is not already ended; false otherwise. */
  async finish(
    tx: Tx,
    id: string,
    end: {
      state: 'succeeded' | 'failed';
      plan?: unknown;
      outcome?: unknown;
      error?: string;
      startedAt?: Date;
    },
    now: Date,
  ): Promise<ActionRow | null> {
    const ended = await tx.action.updateMany({
      where: { id, state: { in: ['pending', 'running'] } },
      data: {
        state: end.state,
        finishedAt: now,
        ...(end.plan !== undefined ? { plan: json(end.plan) } : {}),
        ...(end.outcome !== undefined ? { outcome: json(end.outcome) } : {}),
        ...(end.error !== undefined ? { error: end.error } : {}),
        ...(end.startedAt ? { startedAt: end.startedAt } : {}),
      },
    });
    if (ended.count !== 1) return null;
    const row = await tx.action.findUnique({ where: { id } });
    if (row)
      metrics.failoverActions.inc({
        action: row.dryRun ? `${row.type} (dry run)` : row.type,
        result: end.state,
      });
    return row;
  }

  /** Marks a step running; keeps its first start time when it is resumed after a crash. */
  async stepStarted(id: string, index: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE action_steps SET state = 'running', started_at = COALESCE(started_at, now())
      WHERE action_id = ${id} AND index = ${index} AND state IN ('pending', 'running')`;
  }

  async stepSucceeded(id: string, index: number, detail: unknown): Promise<void> {
    await this.prisma.actionStep.updateMany({
      where: { actionId: id, index, state: { in: ['pending', 'running'] } },
      data: { state: 'succeeded', detail: json(detail), error: null, finishedAt: new Date() },
    });
  }

  /** A transient failure: the step stays running (to be retried) with the last error. */
  async stepRetrying(id: string, index: number, error: string): Promise<void> {
    await this.prisma.actionStep.updateMany({
      where: { actionId: id, index, state: 'running' },
      data: { error },
    });
  }

  async stepFailed(tx: Tx, id: string, index: number, error: string, now: Date): Promise<void> {
    await tx.actionStep.updateMany({
      where: { actionId: id, index },
      data: { state: 'failed', error, finishedAt: now },
    });
  }
}
