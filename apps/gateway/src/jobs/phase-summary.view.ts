import { type PhaseCounts, phaseCounts, phaseCountsOf } from '@roam/contracts';
import { z } from 'zod';

/** A row of counters per phase, as `job_groups` and `job_arrays` keep them. */
export type PhaseCounterRow = PhaseCounts & { createdAt: Date; finishedAt: Date | null };

const isoTime = z.iso.datetime();

/**
 * The fields a group's and an array's summary share, described for what they count
 * (`Jobs`, `Elements`) and the event that says they are done.
 */
export const phaseSummaryShape = (counted: string, finishedEvent: string) => ({
  pending: z.number().int().describe(`${counted} submitted, queued or admitted.`),
  running: z.number().int(),
  finished: z.number().int().describe(`${counted} succeeded, failed or cancelled.`),
  counts: phaseCounts.describe(`${counted} per phase.`),
  done: z.boolean().describe(`All ${counted.toLowerCase()} have finished.`),
  created_at: isoTime,
  finished_at: isoTime
    .nullable()
    .describe(`When the last of them finished (\`${finishedEvent}\`); null while not done.`),
});

export interface PhaseSummary {
  pending: number;
  running: number;
  finished: number;
  counts: PhaseCounts;
  done: boolean;
  created_at: string;
  finished_at: string | null;
}

/** A summary from its counter row: one row read whatever the number of jobs. */
export function phaseSummary(row: PhaseCounterRow): PhaseSummary {
  const counts = phaseCountsOf(row);
  const pending = counts.submitted + counts.queued + counts.admitted;
  const finished = counts.succeeded + counts.failed + counts.cancelled;
  return {
    pending,
    running: counts.running,
    finished,
    counts,
    done: pending + counts.running === 0,
    created_at: row.createdAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}
