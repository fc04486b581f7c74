import { Inject, Injectable } from '@nestjs/common';
import {
  type ActionEvent,
  type ActionType,
  createEnvelope,
  type Envelope,
  subjects,
} from '@roam/contracts';
import { buildPlan, cordonEffect, type FailoverRequest, type PlannedStep } from '@roam/domain';
import { Outbox } from '@roam/messaging';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import { SOURCE } from '../source.js';
import { type ActionRow, ActionRunsRepository } from './action-runs.repository.js';
import { ClusterSnapshotReader } from './cluster-snapshot.js';
import { isTransient, StepExecutor } from './step-executor.js';

/** The request an action was recorded with (the gateway stores the validated the failover controller body). */
interface StoredRequest {
  preflight_checks?: { expected_node_counts?: boolean | number };
}

export function requestOf(action: ActionRow): FailoverRequest {
  const stored = (action.request ?? {}) as StoredRequest;
  return {
    type: action.type as ActionType,
    nodePool: action.nodePool,
    namespace: action.namespace ?? 'default',
    jobsetName: action.jobsetName,
    nodeName: action.nodeName,
    expectedNodeCount: stored.preflight_checks?.expected_node_counts ?? false,
  };
}

function eventOf(action: ActionRow, subject: string): Envelope<ActionEvent> {
  const data: ActionEvent = {
    actionId: action.id,
    type: action.type as ActionType,
    state: action.state,
    dryRun: action.dryRun,
    requestor: action.requestor,
    reason: action.reason,
    nodePool: action.nodePool,
    namespace: action.namespace,
    jobsetName: action.jobsetName,
    nodeName: action.nodeName,
    poolCordoned: action.dryRun ? null : cordonEffect(action.type as ActionType),
    plan: (action.plan as Record<string, unknown> | null) ?? null,
    outcome: (action.outcome as Record<string, unknown> | null) ?? null,
    error: action.error,
  };
  // Deterministic ids: a re-run after a crash republishes the same message, which JetStream drops.
  return createEnvelope(subject, data, {
    source: SOURCE,
    subject: `actions/${action.id}`,
    id: uuidFrom(`${action.id}:${subject}`),
  });
}

/** A stable UUID-shaped id from a string (FNV-1a based; uniqueness is all that matters here). */
function uuidFrom(text: string): string {
  let hex = '';
  for (let seed = 0; hex.length < 32; seed += 1) {
    let h = 0x811c9dc5 ^ seed;
    for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Runs one action to its end: plan (preflight + steps, recorded before anything is touched),
 * then each step in order, recording each. Resumable: steps already succeeded are skipped, a
 * step interrupted by a crash is run again (every step is idempotent). Transient failures leave
 * the action running and throw, so the command is redelivered and the resume loop retries.
 */
@Injectable()
export class ActionRunner {
  constructor(
    private readonly actions: ActionRunsRepository,
    private readonly snapshots: ClusterSnapshotReader,
    private readonly steps: StepExecutor,
    private readonly outbox: Outbox,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(id: string): Promise<void> {
    const held = await this.actions.withActionLock(id, () => this.runLocked(id));
    if (!held) this.logger.debug({ actionId: id }, 'action is being run by another worker');
  }

  private async runLocked(id: string): Promise<void> {
    const action = await this.actions.find(id);
    if (!action || action.state === 'succeeded' || action.state === 'failed') return;
    const log = this.logger.child({
      actionId: id,
      actionType: action.type,
      nodePool: action.nodePool,
    });
    if (action.state === 'pending') {
      const planned = await this.plan(action, log);
      if (!planned) return;
    }
    const steps = await this.actions.steps(id);
    for (const step of steps) {
      if (step.state === 'succeeded') continue;
      if (step.state === 'failed') return;
      const planned = step.detail as unknown as PlannedStep;
      await this.actions.stepStarted(id, step.index);
      log.info({ step: step.name, index: step.index }, 'action step started');
      let result: Record<string, unknown>;
      try {
        result = await this.steps.apply(action.nodePool ?? '', planned, id);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (isTransient(error)) {
          await this.actions.stepRetrying(id, step.index, message);
          log.warn({ step: step.name, err: error }, 'action step failed; will retry');
          throw error;
        }
        await this.fail(
          action,
          `step ${step.name} failed: ${message}`,
          { failedStep: step.index },
          step.index,
        );
        return;
      }
      await this.actions.stepSucceeded(id, step.index, { ...planned, result });
      log.info({ step: step.name, index: step.index, result }, 'action step succeeded');
    }
    const done = await this.actions.steps(id);
    await this.outbox.transaction(async (tx) => {
      const ended = await this.actions.finish(
        tx,
        id,
        {
          state: 'succeeded',
          outcome: {
            poolCordoned: cordonEffect(action.type as ActionType),
            steps: done.map((s) => ({
              index: s.index,
              name: s.name,
              result: (s.detail as { result?: unknown } | null)?.result ?? null,
            })),
          },
        },
        new Date(),
      );
      return { result: ended, messages: ended ? [eventOf(ended, subjects.action.succeeded)] : [] };
    });
    log.info('action succeeded');
  }

  /** Reads the world, decides, and records the plan; false when the action ended here. */
  private async plan(action: ActionRow, log: Logger): Promise<boolean> {
    const request = requestOf(action);
    const snapshot = await this.snapshots.read(request);
    const decision = buildPlan(request, snapshot);
    const now = new Date();
    if (!decision.ok) {
      const outcome = {
        preflight: {
          ...(decision.expected !== undefined ? { expected: decision.expected } : {}),
          ...(decision.found !== undefined ? { found: decision.found } : {}),
        },
      };
      await this.fail(action, decision.error, outcome, undefined, now);
      log.warn({ error: decision.error }, 'action refused');
      return false;
    }
    const { plan } = decision;
    if (action.dryRun) {
      // A dry run records and announces what would happen, and touches nothing.
      await this.outbox.transaction(async (tx) => {
        const ended = await this.actions.finish(
          tx,
          action.id,
          {
            state: 'succeeded',
            plan,
            outcome: { dryRun: true, wouldRun: plan.steps.map((s) => s.name) },
            startedAt: now,
          },
          now,
        );
        if (!ended) return { result: null, messages: [] };
        return {
          result: ended,
          messages: [
            eventOf({ ...ended, state: 'running' }, subjects.action.started),
            eventOf(ended, subjects.action.succeeded),
          ],
        };
      });
      log.info({ steps: plan.steps.length }, 'dry run planned');
      return false;
    }
    return this.outbox.transaction(async (tx) => {
      const claimed = await this.actions.startPlanned(
        tx,
        action.id,
        plan,
        plan.steps.map((step) => ({ name: step.name, detail: step })),
        now,
      );
      if (!claimed) return { result: false, messages: [] };
      const started: ActionRow = {
        ...action,
        state: 'running',
        plan: plan as never,
        startedAt: now,
      };
      log.info({ steps: plan.steps.map((s) => s.name) }, 'action started');
      return { result: true, messages: [eventOf(started, subjects.action.started)] };
    });
  }

  private async fail(
    action: ActionRow,
    error: string,
    outcome: Record<string, unknown>,
    stepIndex?: number,
    now = new Date(),
  ): Promise<void> {
    await this.outbox.transaction(async (tx) => {
      if (stepIndex !== undefined)
        await this.actions.stepFailed(tx, action.id, stepIndex, error, now);
      const ended = await this.actions.finish(
        tx,
        action.id,
        { state: 'failed', error, outcome },
        now,
      );
      return { result: ended, messages: ended ? [eventOf(ended, subjects.action.failed)] : [] };
    });
  }
}
