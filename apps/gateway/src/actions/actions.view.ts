import type { Action, ActionStep } from '@roam/db';

import type { ActionView } from './actions.schemas.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function actionSummaryView(action: Action): Omit<ActionView, 'steps'> {
  return {
    id: action.id,
    type: action.type as ActionView['type'],
    state: action.state,
    dry_run: action.dryRun,
    requestor: action.requestor,
    reason: action.reason,
    node_pool: action.nodePool,
    namespace: action.namespace,
    jobset_name: action.jobsetName,
    node_name: action.nodeName,
    request: action.request,
    plan: action.plan ?? null,
    outcome: action.outcome ?? null,
    error: action.error,
    created_at: action.createdAt.toISOString(),
    started_at: iso(action.startedAt),
    finished_at: iso(action.finishedAt),
  };
}

export function actionView(action: Action, steps: ActionStep[]): ActionView {
  return {
    ...actionSummaryView(action),
    steps: steps.map((step) => ({
      index: step.index,
      name: step.name,
      state: step.state,
      detail: step.detail ?? null,
      error: step.error,
      started_at: iso(step.startedAt),
      finished_at: iso(step.finishedAt),
    })),
  };
}
