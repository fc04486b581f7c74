import { setTimeout as delay } from 'node:timers/promises';

import { Injectable } from '@nestjs/common';
import { type ActionEvent, type ActionType, createEnvelope, subjects } from '@roam/contracts';
import { type Action, type ActionStep, isUniqueViolation } from '@roam/db';
import { Outbox } from '@roam/messaging';
import { ProblemError, problemTypes } from '@roam/runtime';

import { SOURCE } from '../source.js';
import type { ActionRequest, ListActionsQuery } from './actions.schemas.js';
import { ActionRequestsRepository } from './action-requests.repository.js';

const POLL_MS = 100;

export type SubmitOutcome = { action: Action; created: boolean };

function requestedEvent(action: Action) {
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
  };
  return createEnvelope(subjects.action.requested, data, {
    source: SOURCE,
    subject: `actions/${action.id}`,
  });
}

const encodeCursor = (action: Action) =>
  Buffer.from(JSON.stringify([action.createdAt.toISOString(), action.id])).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      string,
      string,
    ];
    const date = new Date(createdAt);
    if (typeof id !== 'string' || id.includes('\u0000') || Number.isNaN(date.getTime()))
      throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new ProblemError(
      400,
      problemTypes.validation,
      'Invalid request',
      'query: cursor: not a cursor from this API',
      {
        errors: [{ path: 'cursor', message: 'not a cursor from this API' }],
      },
    );
  }
}

/**
 * Records node-pool actions for the failover worker: the action row, its `requested` event
 * and the `execute` command in one outbox transaction. Never touches the cluster.
 */
@Injectable()
export class ActionsService {
  constructor(
    private readonly actions: ActionRequestsRepository,
    private readonly outbox: Outbox,
  ) {}

  /**
   * The same id twice records one action (the second call gets the first's); a real action on
   * a pool that already has one pending or running is a 409 naming it. Dry runs touch nothing,
   * so they neither wait for nor block real ones.
   */
  async submit(request: ActionRequest): Promise<SubmitOutcome> {
    const id = request.id ?? crypto.randomUUID();
    const pool = request.node_pool ?? '';
    try {
      return await this.outbox.transaction<SubmitOutcome>(async (tx) => {
        await this.actions.lockPool(tx, pool);
        const existing = await this.actions.findIn(tx, id);
        if (existing) return { result: { action: existing, created: false }, messages: [] };
        if (!request.dry_run) {
          const running = await this.actions.inFlightOn(tx, pool);
          if (running) throw this.conflict(id, pool, running);
        }
        const action = await this.actions.create(tx, {
          id,
          type: request.type,
          dryRun: request.dry_run,
          requestor: request.requestor,
          reason: request.reason,
          nodePool: request.node_pool ?? null,
          namespace: request.namespace,
          jobsetName: request.jobset_name ?? null,
          nodeName: request.node_name ?? null,
          request: { ...request, id },
        });
        const command = createEnvelope(
          subjects.action.execute,
          { actionId: id },
          {
            source: SOURCE,
            subject: `actions/${id}`,
          },
        );
        return { result: { action, created: true }, messages: [requestedEvent(action), command] };
      });
    } catch (error) {
      // Two first submissions of one id on different pools: the loser answers with the winner's.
      if (!isUniqueViolation(error)) throw error;
      const existing = await this.actions.find(id);
      if (!existing) throw error;
      return { action: existing, created: false };
    }
  }

  /** Polls Postgres until the action ends or `seconds` pass; the last state read either way. */
  async waitForEnd(action: Action, seconds: number): Promise<Action> {
    const deadline = Date.now() + seconds * 1000;
    let current = action;
    while (current.state !== 'succeeded' && current.state !== 'failed' && Date.now() < deadline) {
      await delay(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      current = (await this.actions.find(action.id)) ?? current;
    }
    return current;
  }

  async get(id: string): Promise<{ action: Action; steps: ActionStep[] }> {
    const action = await this.actions.find(id);
    if (!action)
      throw new ProblemError(
        404,
        problemTypes.notFound,
        'Not found',
        `action ${id} does not exist`,
      );
    return { action, steps: await this.actions.steps(id) };
  }

  async list(query: ListActionsQuery): Promise<{ items: Action[]; nextCursor: string | null }> {
    const rows = await this.actions.list({
      type: query.type,
      nodePool: query.node_pool,
      requestor: query.requestor,
      state: query.state,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  private conflict(id: string, pool: string, running: Action): ProblemError {
    const detail = `node pool ${pool} already has action ${running.id} (${running.type}, ${running.state}) in flight; retry when it has finished`;
    // `id` and `error` keep the failover controller's response fields on this problem too.
    return new ProblemError(409, problemTypes.conflict, 'Action in flight', detail, {
      id,
      error: detail,
      running_action: {
        id: running.id,
        type: running.type,
        state: running.state,
        requestor: running.requestor,
      },
    });
  }
}
