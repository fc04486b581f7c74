import type { PhaseCounts } from '@roam/contracts';
import type { Pipeline } from '@roam/db';

import type { PipelineState, PipelineSummary, PipelineView } from './pipeline.schemas.js';
import type { StepRow } from './pipelines.repository.js';

const sum = (rows: readonly PhaseCounts[]): PhaseCounts => {
  const out: PhaseCounts = {
    submitted: 0,
    queued: 0,
    admitted: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
  };
  for (const row of rows)
    for (const key of Object.keys(out) as (keyof PhaseCounts)[]) out[key] += row[key];
  return out;
};

/** An array step's status from its counters: like a job's, succeeded only when all elements did. */
function arrayStatus(step: StepRow): PipelineView['steps'][number]['status'] {
  const { counts, size } = step;
  const finished = counts.succeeded + counts.failed + counts.cancelled;
  if (finished < size) return counts.running > 0 || finished > 0 ? 'running' : 'pending';
  if (counts.succeeded === size) return 'succeeded';
  return counts.failed > 0 ? 'failed' : 'cancelled';
}

export function pipelineView(pipeline: Pipeline, steps: readonly StepRow[]): PipelineView {
  return {
    id: pipeline.id,
    name: pipeline.name,
    steps: steps.map((step) => ({
      name: step.name,
      kind: step.arrayId !== null ? 'array' : 'job',
      id: (step.arrayId ?? step.jobId)!,
      status:
        step.job !== null
          ? (step.job.status as PipelineView['steps'][number]['status'])
          : arrayStatus(step),
      phase: step.job?.phase ?? null,
      reason: step.job?.reason ?? null,
      counts: step.counts,
      depends_on: step.dependsOn,
    })),
    outcome: {
      succeeded: pipeline.succeeded,
      failed: pipeline.failed,
      cancelled: pipeline.cancelled,
    },
    counts: sum(steps.map((step) => step.counts)),
    done: pipeline.finishedAt !== null,
    created_at: pipeline.createdAt.toISOString(),
    finished_at: pipeline.finishedAt?.toISOString() ?? null,
  };
}

export function pipelineState(pipeline: Pipeline): PipelineState {
  if (pipeline.finishedAt === null) return 'running';
  if (pipeline.failed > 0) return 'failed';
  return pipeline.cancelled > 0 ? 'cancelled' : 'succeeded';
}

export function pipelineSummaryView(pipeline: Pipeline): PipelineSummary {
  return {
    id: pipeline.id,
    name: pipeline.name,
    state: pipelineState(pipeline),
    steps_total: pipeline.steps,
    outcome: {
      succeeded: pipeline.succeeded,
      failed: pipeline.failed,
      cancelled: pipeline.cancelled,
    },
    done: pipeline.finishedAt !== null,
    created_at: pipeline.createdAt.toISOString(),
    finished_at: pipeline.finishedAt?.toISOString() ?? null,
  };
}
