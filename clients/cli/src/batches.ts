import type { Schemas } from '@roam/client';

import { age, type Printable } from './output.js';
import { type PhaseCounts, phaseProgress } from './progress.js';

type JobArray = Schemas['JobArray'];
type JobGroup = Schemas['JobGroup'];

const POLL_MS = 1000;

export const arrayCounts = (a: JobArray): PhaseCounts => ({
  total: a.size,
  pending: a.pending,
  running: a.running,
  succeeded: a.counts.succeeded,
  failed: a.counts.failed,
  cancelled: a.counts.cancelled,
});

export const groupCounts = (g: JobGroup): PhaseCounts => ({
  total: g.total,
  pending: g.pending,
  running: g.running,
  succeeded: g.counts.succeeded,
  failed: g.counts.failed,
  cancelled: g.counts.cancelled,
});

const countCells = (c: PhaseCounts) =>
  [c.pending, c.running, c.succeeded, c.failed, c.cancelled].map(String);
const COUNT_HEADERS = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

export const arrayView: Printable<JobArray> = {
  headers: ['ID', 'NAME', 'SIZE', ...COUNT_HEADERS, 'AGE'],
  row: (a) => [a.id, a.name, String(a.size), ...countCells(arrayCounts(a)), age(a.created_at)],
  name: (a) => a.id,
};

export const groupView: Printable<JobGroup> = {
  headers: ['GROUP', 'TOTAL', ...COUNT_HEADERS, 'AGE'],
  row: (g) => [g.name, String(g.total), ...countCells(groupCounts(g)), age(g.created_at)],
  name: (g) => g.name,
};

type PipelineSummary = Schemas['PipelineSummary'];
type Pipeline = Schemas['Pipeline'];

export const pipelineView: Printable<PipelineSummary> = {
  headers: ['ID', 'NAME', 'STATE', 'STEPS', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'AGE'],
  row: (p) => [
    p.id,
    p.name,
    p.state,
    String(p.steps_total),
    String(p.outcome.succeeded),
    String(p.outcome.failed),
    String(p.outcome.cancelled),
    age(p.created_at),
  ],
  name: (p) => p.id,
};

/** One pipeline's steps, a row each. */
export const pipelineStepView: Printable<Pipeline['steps'][number]> = {
  headers: ['STEP', 'KIND', 'ID', 'STATUS', ...COUNT_HEADERS],
  row: (step) => [
    step.name,
    step.kind,
    step.id,
    step.status,
    ...countCells({
      total: 0,
      pending: step.counts.submitted + step.counts.queued + step.counts.admitted,
      running: step.counts.running,
      succeeded: step.counts.succeeded,
      failed: step.counts.failed,
      cancelled: step.counts.cancelled,
    }),
  ],
  name: (step) => step.id,
};

export const batchView: Printable<Schemas['JobBatchResult']['items'][number]> = {
  headers: ['ID', 'NAME', 'STATUS'],
  row: (job) => [job.id, job.name, job.status],
  name: (job) => job.id,
};

/** Every element finished, and every one of them succeeded. */
export const allSucceeded = (counts: PhaseCounts): boolean => counts.succeeded === counts.total;

/**
 * Reads a group's or an array's summary (counters the API keeps, so one cheap request however
 * many elements) until it is done, drawing its progress on stderr; returns the last summary.
 */
export async function watchCounts<T extends { done: boolean }>(
  label: string,
  read: () => Promise<T>,
  counts: (summary: T) => PhaseCounts,
): Promise<T> {
  const progress = phaseProgress(label);
  try {
    for (;;) {
      const summary = await read();
      progress.update(counts(summary));
      if (summary.done) return summary;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    progress.stop();
  }
}
