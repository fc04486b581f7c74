import { createEnvelope, type Envelope, type JobStatus, subjects } from '@roam/contracts';
import { Prisma } from '@roam/db';
import { jobStateOf } from '@roam/domain';
import type { Outbox, Tx } from '@roam/messaging';

import type { JobChange, JobLedger, LedgerJob } from './ledger.js';

/** Statuses of a job that has not finished. */
export const UNFINISHED: readonly JobStatus[] = ['pending', 'running'];

/** A batch of locked jobs and the key of its last one (where the next batch starts). */
export interface LockedJobs<K> {
  jobs: LedgerJob[];
  last: K | undefined;
  /**
   * Ids of the jobs that may have something to stop: running, admitted, or with a Kubernetes
   * Job or an offload (the reconciler's active jobs). A job outside it never left the queue, so
   * its cancel needs no `job.cancel` command.
   */
  active: ReadonlySet<string>;
}

export interface LockedRow {
  id: string;
  tenant_id: string;
  name: string;
  attempt: number;
  seq: number;
  status: string;
  phase: string;
  reason: string | null;
  message: string | null;
  placement: Record<string, unknown> | null;
  array_index: number | null;
  active: boolean;
}

/**
 * Up to `limit` jobs of the tenant matching `where` in one of `statuses`, after `key.after` in
 * the order of `key.column` (an index of `where` gives that order), locked for the rest of the
 * transaction, as the ledger needs them. Keyset-paged: a caller walking a set of 100,000 jobs
 * reads each index entry once, never again the ones it already went past.
 */
export async function lockJobs<K>(
  tx: Prisma.TransactionClient,
  query: {
    tenantId: string;
    where: Prisma.Sql;
    statuses: readonly JobStatus[];
    key: { column: Prisma.Sql; after: Prisma.Sql | null };
    read: (row: LockedRow) => K;
    limit: number;
  },
): Promise<LockedJobs<K>> {
  const { key } = query;
  const after = key.after === null ? Prisma.empty : Prisma.sql`AND ${key.column} > ${key.after}`;
  const rows = await tx.$queryRaw<LockedRow[]>`
    SELECT id::text AS id, tenant_id, name, attempt, seq, status::text AS status, phase, reason,
           message, placement, array_index,
           status = 'running' OR admitted_at IS NOT NULL OR placement IS NOT NULL AS active
    FROM jobs
    WHERE tenant_id = ${query.tenantId} AND ${query.where} ${after}
      AND status = ANY(${[...query.statuses]}::"JobStatus"[])
    ORDER BY ${key.column}
    LIMIT ${query.limit}
    FOR UPDATE`;
  const last = rows.at(-1);
  return {
    jobs: rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      attempt: row.attempt,
      seq: row.seq,
      state: jobStateOf(row),
      placement: row.placement,
    })),
    last: last === undefined ? undefined : query.read(last),
    active: new Set(rows.filter((row) => row.active).map((row) => row.id)),
  };
}

/** Jobs changed per transaction when a whole group or array is cancelled or retried. */
export const JOB_SET_BATCH = 1000;

/**
 * Applies `change` through the ledger to every job `lock` returns, a batch per transaction,
 * walking the set once by its key (`lock` returns the jobs after `after`, locked, and the key of
 * the last), until `lock` returns none. `messages` are the commands the written changes cause.
 * A batch with a stale job (written meanwhile by a younger transaction) is walked again from
 * the same key in a new transaction. Returns how many jobs were written.
 *
 * A batch's events are published while the next batch is written (at most one batch in
 * flight, all published before this returns): publishing a thousand events to JetStream takes
 * about as long as writing them, and a job appears in one batch only, so the order of each
 * job's own events is kept. Whatever is not published stays in the outbox for its relay.
 */
export async function applyInBatches<K>(
  outbox: Outbox,
  ledger: JobLedger,
  lock: (tx: Tx, after: K | undefined, limit: number) => Promise<LockedJobs<K>>,
  change: (job: JobChange['job'], now: Date) => JobChange,
  messages: (written: JobChange[], active: ReadonlySet<string>) => Envelope[] = () => [],
  /** Stop after this many batches (the rest is left for a later walk). */
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<number> {
  let written = 0;
  let after: K | undefined;
  let publishing: Promise<void> = Promise.resolve();
  try {
    for (let batch = 0; batch < maxBatches; batch++) {
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
          messages: messages(
            result.written.map((w) => w.change),
            locked.active,
          ),
        };
      });
      if (!outcome) break;
      // `dispatch` never throws (a failed publish is left to the relay).
      await publishing;
      publishing = outbox.dispatch(outcome.events);
      written += outcome.count;
      if (!outcome.stale) after = outcome.last;
    }
  } finally {
    await publishing;
  }
  return written;
}

/**
 * Cancels, through the ledger, every unfinished job of a set (`applyInBatches`): each gets its
 * history row and `job.cancelled` event, and each that may have something to stop (`active`:
 * admitted, running, a Kubernetes Job or an offload) its `job.cancel` command, as a single
 * cancel has. A job that never left the queue has nothing to stop: no command, so the
 * reconciler has no work for it (a stray Job would still be found by its resync,
 * docs/architecture.md#rule-3). Returns how many it cancelled.
 */
export function cancelInBatches<K>(
  outbox: Outbox,
  ledger: JobLedger,
  /** The app writing, e.g. `roam/gateway`: the commands' `source`. */
  source: string,
  tenantId: string,
  lock: (tx: Tx, after: K | undefined, limit: number) => Promise<LockedJobs<K>>,
  message: string,
  maxBatches = Number.POSITIVE_INFINITY,
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
    (written, active) =>
      written
        .filter(({ job }) => active.has(job.id))
        .map(({ job }) =>
          createEnvelope(
            subjects.job.cancel,
            { jobId: job.id },
            { source, tenantId, subject: `jobs/${job.id}` },
          ),
        ),
    maxBatches,
  );
}

/** An array's elements in one of `statuses` after index `after`, locked (`lockJobs`). */
export function lockArrayElements(
  tx: Prisma.TransactionClient,
  tenantId: string,
  arrayId: string,
  statuses: readonly JobStatus[],
  after: number | undefined,
  limit: number,
): Promise<LockedJobs<number>> {
  return lockJobs(tx, {
    tenantId,
    where: Prisma.sql`array_id = ${arrayId}::uuid`,
    statuses,
    key: {
      column: Prisma.sql`array_index`,
      after: after === undefined ? null : Prisma.sql`${after}::int`,
    },
    read: (row) => row.array_index ?? 0,
    limit,
  });
}

/**
 * Cancels an array's unfinished elements, `JOB_SET_BATCH` per transaction, at most
 * `maxBatches` batches (the gateway cancels a small array inline; the reconciler's
 * array-cancel loop walks an array whose cancel was requested). Returns how many it cancelled.
 */
export function cancelArrayElements(
  outbox: Outbox,
  ledger: JobLedger,
  source: string,
  array: { id: string; tenantId: string },
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<number> {
  return cancelInBatches<number>(
    outbox,
    ledger,
    source,
    array.tenantId,
    (tx, after, limit) => lockArrayElements(tx, array.tenantId, array.id, UNFINISHED, after, limit),
    `array ${array.id} cancelled through the API`,
    maxBatches,
  );
}
