import { createEnvelope, type Envelope, subjects } from '@roam/contracts';
import type { JobChange, JobLedger } from '@roam/jobs';
import type { Outbox, Tx } from '@roam/messaging';

import { SOURCE } from '../source.js';
import type { LockedJobs } from './groups.repository.js';

/** Jobs changed per transaction when a whole group or array is cancelled or retried. */
export const JOB_SET_BATCH = 1000;

/**
 * Applies `change` through the ledger to every job `lock` returns, a batch per transaction,
 * walking the set once by its key (`lock` returns the jobs after `after`, locked, and the key of
 * the last), until `lock` returns none. `messages` are the commands the written changes cause.
 * A batch with a stale job (written meanwhile by a younger transaction) is walked again from
 * the same key in a new transaction. Returns how many jobs were written.
 */
export async function applyInBatches<K>(
  outbox: Outbox,
  ledger: JobLedger,
  lock: (tx: Tx, after: K | undefined, limit: number) => Promise<LockedJobs<K>>,
  change: (job: JobChange['job'], now: Date) => JobChange,
  messages: (written: JobChange[]) => Envelope[] = () => [],
): Promise<number> {
  let written = 0;
  let after: K | undefined;
  for (;;) {
    const outcome = await outbox.transaction(async (tx) => {
      const locked = await lock(tx, after, JOB_SET_BATCH);
      if (locked.jobs.length === 0) return { result: undefined, messages: [] };
      const now = new Date();
      const result = await ledger.apply(
        tx,
        locked.jobs.map((job) => change(job, now)),
      );
      return {
        result: {
          events: result.envelopes,
          count: result.written.length,
          last: locked.last,
          stale: result.stale.length > 0,
        },
        messages: messages(result.written.map((w) => w.change)),
      };
    });
    if (!outcome) return written;
    await outbox.dispatch(outcome.events);
    written += outcome.count;
    if (!outcome.stale) after = outcome.last;
  }
}

/**
 * Cancels, through the ledger, every unfinished job of a set (`applyInBatches`), each with its
 * `job.cancel` command as a single cancel has. Returns how many it cancelled.
 */
export function cancelInBatches<K>(
  outbox: Outbox,
  ledger: JobLedger,
  tenantId: string,
  lock: (tx: Tx, after: K | undefined, limit: number) => Promise<LockedJobs<K>>,
  message: string,
): Promise<number> {
  return applyInBatches(
    outbox,
    ledger,
    lock,
    (job, now) => ({
      job,
      events: [{ type: 'cancel', reason: 'CancelledByUser', message }],
      set: { cancelRequestedAt: now, finishedAt: now },
    }),
    (written) =>
      written.map(({ job }) =>
        createEnvelope(
          subjects.job.cancel,
          { jobId: job.id },
          { source: SOURCE, tenantId, subject: `jobs/${job.id}` },
        ),
      ),
  );
}
