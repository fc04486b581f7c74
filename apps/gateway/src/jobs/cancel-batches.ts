import { createEnvelope, type Envelope, subjects } from '@roam/contracts';
import type { JobLedger, LedgerJob } from '@roam/jobs';
import type { Outbox, Tx } from '@roam/messaging';

import { SOURCE } from '../source.js';

/** Jobs cancelled per transaction when a whole group or array is cancelled. */
export const CANCEL_BATCH = 200;

/**
 * Cancels, through the ledger, every job `lock` returns (unfinished jobs of a set, locked), a
 * batch per transaction, each with its `job.cancel` command as a single cancel has; until `lock`
 * returns none. Returns how many it cancelled.
 */
export async function cancelInBatches(
  outbox: Outbox,
  ledger: JobLedger,
  tenantId: string,
  lock: (tx: Tx, limit: number) => Promise<LedgerJob[]>,
  message: string,
): Promise<number> {
  let cancelled = 0;
  for (;;) {
    const outcome = await outbox.transaction(async (tx) => {
      const jobs = await lock(tx, CANCEL_BATCH);
      if (jobs.length === 0) return { result: undefined, messages: [] };
      const now = new Date();
      const result = await ledger.apply(
        tx,
        jobs.map((job) => ({
          job,
          events: [{ type: 'cancel' as const, reason: 'CancelledByUser' as const, message }],
          set: { cancelRequestedAt: now, finishedAt: now },
        })),
      );
      const messages: Envelope[] = result.written.map(({ change }) =>
        createEnvelope(
          subjects.job.cancel,
          { jobId: change.job.id },
          { source: SOURCE, tenantId, subject: `jobs/${change.job.id}` },
        ),
      );
      return { result: { events: result.envelopes, count: result.written.length }, messages };
    });
    if (!outcome) return cancelled;
    await outbox.dispatch(outcome.events);
    cancelled += outcome.count;
    // Locked rows the ledger did not write would come back forever: stop.
    if (outcome.count === 0) return cancelled;
  }
}
