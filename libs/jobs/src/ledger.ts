import type { Envelope, JobSpec } from '@roam/contracts';
import { Prisma, type RawStatements } from '@roam/db';
import { type JobEvent, type JobState, SUBMITTED, transition } from '@roam/domain';
import type { Outbox } from '@roam/messaging';

import { jobEventEnvelope } from './envelope.js';

const { sql } = Prisma;

/**
 * What the ledger needs of a database: raw queries, from a transaction's client, or from
 * `directSql(prisma)` for a write that is one statement (docs/architecture.md#direct-sql).
 */
export type LedgerDb = Pick<RawStatements, '$queryRaw'>;

/** A job as its caller read it: the ledger writes only if `seq` is still the row's. */
export interface LedgerJob {
  id: string;
  tenantId: string;
  name: string;
  attempt: number;
  seq: number;
  /** Parsed from the row (`jobStateOf`), never cast. */
  state: JobState;
  /** Where it runs, as read; events carry it unless the change sets a new one. */
  placement?: Record<string, unknown> | null;
}

/** Columns written together with a change (a key left out keeps the column as it is). */
export interface JobColumns {
  exitCode?: number | null;
  admittedAt?: Date | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  retryAt?: Date | null;
  cancelRequestedAt?: Date | null;
  attempt?: number;
  /** Attempts requeued through no fault of the job (`requeue`), which use no retry. */
  requeues?: number;
  /** Attempts ended by a preemption (not counted by the retry policy). */
  preemptions?: number;
  /** JobSet restarts over all attempts, and the count recorded for attempt `restartsAttempt`. */
  restarts?: number;
  attemptRestarts?: number;
  restartsAttempt?: number;
  placement?: Record<string, unknown> | null;
  /** The capacity admission placed a `prefer-spot` job on (`spot`/`on-demand`); null otherwise. */
  admittedCapacity?: 'spot' | 'on-demand' | null;
  /** The node pool of each TPU slice admission placed, in slice order; null otherwise. */
  admittedPools?: string[] | null;
}

/**
 * One job's change: domain events applied in order (the reconciler may see a short-lived pod
 * start and finish at once), and columns to write with them. With no events, only the columns
 * are written (still guarded by `seq`; no history, no event).
 */
export interface JobChange {
  job: LedgerJob;
  events: readonly JobEvent[];
  set?: JobColumns;
}

export interface LedgerStep {
  cause: JobEvent['type'];
  state: JobState;
  seq: number;
}

export interface WrittenChange {
  change: JobChange;
  /** The changed steps, each one history row and one event with the same `seq`. */
  steps: LedgerStep[];
  state: JobState;
  seq: number;
}

export interface LedgerResult {
  written: WrittenChange[];
  /**
   * The row's seq moved since it was read (a lost race), or a transaction younger than the
   * caller's wrote it last: nothing written; read again in a new transaction.
   */
  stale: JobChange[];
  /** Every event was a no-op (a duplicate, a cancel of a finished job): nothing written. */
  unchanged: JobChange[];
  /** An event the state machine refuses: nothing written for that job. */
  rejected: { change: JobChange; error: string }[];
  /** Written to the outbox; dispatch them after commit. */
  envelopes: Envelope[];
}

/** A new job's columns; its state is always `Submitted` at seq 1. */
/** One pod set as `jobs.pod_sets` keeps it: a name, how many pods, one pod's requests. */
export interface StoredPodSet {
  name: string;
  count: number;
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
  /** TPU chips of one pod (one host of its slice): set for a job of several TPU slices. */
  tpu?: number;
  /**
   * The set is this many multi-host TPU slices of `count / slices` pods each, every slice on a
   * node pool of its own (docs/scheduling.md#flavors). Absent: not a set of slices.
   */
  slices?: number;
}

export interface NewJobRecord {
  id: string;
  tenantId: string;
  name: string;
  queue: string;
  priority: number;
  spec: JobSpec;
  labels: Record<string, string>;
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
  /** A multi-pod job's pod sets (one pod's requests each); the three above are the gang's sum. */
  podSets?: readonly StoredPodSet[] | null;
  offloadPreference: 'never' | 'allowed' | 'required';
  maxAttempts: number;
  templateId: string | null;
  inputsKey: string | null;
  inputsBytes: number | null;
  /** The job group it belongs to (`spec.group`); its counters follow by trigger. */
  group?: string | null;
}

export interface SubmitOptions {
  /**
   * Insert only if this tenant exists and is not being deleted (its row is share-locked for
   * the statement, so a deletion cannot interleave). Leave out when the caller holds the lock.
   */
  tenantGuard?: string;
  /** Other messages the submit causes (commands), written in the same statement. */
  messages?: readonly Envelope[];
}

/** A planned write: the ledger decides in TypeScript, then writes every job in one statement. */
interface Planned {
  change: JobChange;
  steps: LedgerStep[];
  state: JobState;
  seq: number;
  envelopes: Envelope[];
}

const COLUMN_SQL: { [K in keyof JobColumns]-?: { column: string; type: string } } = {
  exitCode: { column: 'exit_code', type: 'int' },
  admittedAt: { column: 'admitted_at', type: 'timestamptz' },
  startedAt: { column: 'started_at', type: 'timestamptz' },
  finishedAt: { column: 'finished_at', type: 'timestamptz' },
  retryAt: { column: 'retry_at', type: 'timestamptz' },
  cancelRequestedAt: { column: 'cancel_requested_at', type: 'timestamptz' },
  attempt: { column: 'attempt', type: 'int' },
  requeues: { column: 'requeues', type: 'int' },
  preemptions: { column: 'preemptions', type: 'int' },
  restarts: { column: 'restarts', type: 'int' },
  attemptRestarts: { column: 'attempt_restarts', type: 'int' },
  restartsAttempt: { column: 'restarts_attempt', type: 'int' },
  placement: { column: 'placement', type: 'jsonb' },
  admittedCapacity: { column: 'admitted_capacity', type: 'text' },
  admittedPools: { column: 'admitted_pools', type: 'jsonb' },
};

/** `set = { exit_code: 1, placement: {...} }` → `exit_code = CASE WHEN … END, …`. */
const SET_COLUMNS = Prisma.join(
  Object.values(COLUMN_SQL).map(({ column, type }) => {
    const value = type === 'jsonb' ? `v.set -> '${column}'` : `(v.set ->> '${column}')::${type}`;
    // A key present with JSON null sets SQL NULL; an absent key keeps the column.
    return Prisma.raw(
      `${column} = CASE WHEN v.set -> '${column}' IS NULL THEN j.${column} ` +
        `WHEN jsonb_typeof(v.set -> '${column}') = 'null' THEN NULL ELSE ${value} END`,
    );
  }),
  ', ',
);

function setJson(set: JobColumns | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!set) return out;
  for (const [key, spec] of Object.entries(COLUMN_SQL)) {
    const value = set[key as keyof JobColumns];
    if (value === undefined) continue;
    out[spec.column] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/**
 * The job ledger: the one way a job's state changes. Every change is checked against the
 * state machine (`transition` in @roam/domain), written conditionally on the `seq` its caller
 * read, and recorded with one history row per step and one event per step (built by
 * `jobEventEnvelope`) in the outbox, all in ONE statement whatever the number of jobs.
 *
 * A job's events must also be in `seq` order in the event feed, which reads in (writing
 * transaction id, position) order. A transaction that took its id early (it wrote something
 * else first) and then changes a job that a younger transaction changed meanwhile would put a
 * higher `seq` before a lower one there. So a row last written by a younger transaction
 * (`age(xmin) < 0`) is stale too: the caller retries in a new transaction, whose id is younger.
 */
/**
 * The `jobs` columns a submit returns with `returnRows`, named one by one: a statement that
 * returns `*` changes its result shape when a migration adds a column, which a statement
 * prepared on a pooled connection cannot survive ("cached plan must not change result type").
 * A new column a caller needs is added here.
 */
export const JOB_ROW_COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'queue',
  'status',
  'phase',
  'reason',
  'message',
  'priority',
  'spec',
  'labels',
  'cpu_millis',
  'memory_bytes',
  'gpu',
  'pod_sets',
  'offload_preference',
  'template_id',
  'attempt',
  'preemptions',
  'max_attempts',
  'requeues',
  'restarts',
  'attempt_restarts',
  'restarts_attempt',
  'retry_at',
  'placement',
  'exit_code',
  'seq',
  'cancel_requested_at',
  'created_at',
  'admitted_at',
  'started_at',
  'finished_at',
  'inputs_key',
  'inputs_bytes',
  'cleanup_at',
  'group_name',
  'array_id',
  'array_index',
  'deps_unmet',
  'updated_at',
] as const;

const JOB_ROW_SQL = Prisma.raw(JOB_ROW_COLUMNS.join(', '));

/**
 * The columns a new job's row takes from its record, as the JSON the submit statements read:
 * the ledger's submit adds the id and inputs, an array's elements their id and index.
 */
export function jobRecordJson(job: NewJobRecord): Record<string, unknown> {
  return {
    tenant_id: job.tenantId,
    name: job.name,
    queue: job.queue,
    priority: job.priority,
    spec: job.spec,
    labels: job.labels,
    cpu_millis: job.cpuMillis,
    memory_bytes: job.memoryBytes,
    gpu: job.gpu,
    pod_sets: job.podSets ?? null,
    offload_preference: job.offloadPreference,
    max_attempts: job.maxAttempts,
    template_id: job.templateId,
    group_name: job.group ?? null,
  };
}

export class JobLedger {
  constructor(
    private readonly outbox: Pick<Outbox, 'cte'>,
    /** The app writing, e.g. `roam/scheduler`: the events' `source`. */
    private readonly source: string,
  ) {}

  /** Decides every change (pure), then writes those that change something. */
  async apply(db: LedgerDb, changes: readonly JobChange[]): Promise<LedgerResult> {
    const result: LedgerResult = {
      written: [],
      stale: [],
      unchanged: [],
      rejected: [],
      envelopes: [],
    };
    const planned: Planned[] = [];
    const ids = new Set<string>();
    for (const change of changes) {
      if (ids.has(change.job.id))
        throw new Error(`job ${change.job.id} appears twice in one ledger write`);
      ids.add(change.job.id);
      const outcome = this.plan(change);
      if ('error' in outcome) result.rejected.push({ change, error: outcome.error });
      else if (outcome.steps.length === 0 && (change.events.length > 0 || !hasColumns(change.set)))
        result.unchanged.push(change);
      else planned.push(outcome);
    }
    if (planned.length === 0) return result;

    const input = JSON.stringify(
      planned.map((p) => ({
        id: p.change.job.id,
        seq: p.change.job.seq,
        next_seq: p.seq,
        status: p.state.status,
        phase: p.state.phase,
        reason: p.state.reason ?? null,
        message: p.state.message ?? null,
        set: setJson(p.change.set),
      })),
    );
    const history = JSON.stringify(
      planned.flatMap((p) =>
        p.steps.map((step) => ({
          job_id: p.change.job.id,
          tenant_id: p.change.job.tenantId,
          seq: step.seq,
          status: step.state.status,
          phase: step.state.phase,
          reason: step.state.reason ?? null,
          message: step.state.message ?? null,
          data: {
            attempt: p.change.job.attempt,
            ...(p.change.set?.placement !== undefined ? { placement: p.change.set.placement } : {}),
          },
        })),
      ),
    );
    const envelopes = planned.flatMap((p) => p.envelopes);
    const rows = await db.$queryRaw<{ id: string }[]>`
      WITH ledger_input AS (
        SELECT id, seq, next_seq, status, phase, reason, message, set
        FROM jsonb_to_recordset(${input}::jsonb) AS r(
          id uuid, seq int, next_seq int, status text, phase text, reason text, message text,
          set jsonb)
      ), ledger_updated AS (
        UPDATE jobs j SET status = v.status::"JobStatus", phase = v.phase, reason = v.reason,
               message = v.message, seq = v.next_seq, ${SET_COLUMNS}, updated_at = now()
        FROM ledger_input v
        WHERE j.id = v.id AND j.seq = v.seq AND age(j.xmin) >= 0
        RETURNING j.id
      ), ledger_history AS (
        INSERT INTO job_history (job_id, tenant_id, seq, status, phase, reason, message, data)
        SELECT h.job_id, h.tenant_id, h.seq, h.status::"JobStatus", h.phase, h.reason,
               h.message, h.data
        FROM jsonb_to_recordset(${history}::jsonb) AS h(
          job_id uuid, tenant_id text, seq int, status text, phase text, reason text,
          message text, data jsonb)
        JOIN ledger_updated u ON u.id = h.job_id
      ), ${this.outbox.cte(
        envelopes,
        sql`subject IN (SELECT 'jobs/' || id::text FROM ledger_updated)`,
      )}
      SELECT id::text AS id FROM ledger_updated`;
    const updated = new Set(rows.map((row) => row.id));
    for (const p of planned) {
      if (!updated.has(p.change.job.id)) {
        result.stale.push(p.change);
        continue;
      }
      result.written.push({ change: p.change, steps: p.steps, state: p.state, seq: p.seq });
      result.envelopes.push(...p.envelopes);
    }
    return result;
  }

  /** `apply` for one job. */
  async applyOne(db: LedgerDb, change: JobChange): Promise<LedgerResult> {
    return this.apply(db, [change]);
  }

  /**
   * Inserts new jobs (state `Submitted`, seq 1) with their first history row, their
   * `submitted` events and `options.messages`, in ONE statement. Returns the inserted rows as
   * `Row` (raw column names: `JOB_ROW_COLUMNS` with `returnRows`, else `id`), empty when the
   * tenant guard failed.
   */
  async submit<Row = { id: string }>(
    db: LedgerDb,
    jobs: readonly NewJobRecord[],
    options: SubmitOptions & { returnRows?: boolean } = {},
  ): Promise<{ rows: Row[]; envelopes: Envelope[] }> {
    if (jobs.length === 0) return { rows: [], envelopes: [] };
    const envelopes: Envelope[] = [];
    for (const job of jobs)
      envelopes.push(
        jobEventEnvelope({
          source: this.source,
          cause: 'submit',
          from: undefined,
          to: SUBMITTED,
          seq: 1,
          job: { id: job.id, tenantId: job.tenantId, name: job.name, attempt: 1 },
        }),
      );
    envelopes.push(...(options.messages ?? []));
    const records = JSON.stringify(
      jobs.map((job) => ({
        id: job.id,
        ...jobRecordJson(job),
        inputs_key: job.inputsKey,
        inputs_bytes: job.inputsBytes,
      })),
    );
    const guard = options.tenantGuard;
    const tenant =
      guard === undefined
        ? sql``
        : sql`ledger_tenant AS (
            SELECT id FROM tenants WHERE id = ${guard} AND status <> 'deleting' FOR SHARE
          ),`;
    const from = guard === undefined ? sql`` : sql`, ledger_tenant`;
    const select = options.returnRows
      ? sql`SELECT ${JOB_ROW_SQL} FROM ledger_inserted`
      : sql`SELECT id::text AS id FROM ledger_inserted`;
    const rows = await db.$queryRaw<Row[]>`
      WITH ${tenant} ledger_inserted AS (
        INSERT INTO jobs (id, tenant_id, name, queue, priority, spec, labels, cpu_millis,
                          memory_bytes, gpu, pod_sets, offload_preference, max_attempts,
                          template_id, inputs_key, inputs_bytes, group_name, status, phase, seq,
                          updated_at)
        SELECT r.id, r.tenant_id, r.name, r.queue, r.priority, r.spec, r.labels, r.cpu_millis,
               r.memory_bytes, r.gpu, r.pod_sets, r.offload_preference::"OffloadPreference",
               r.max_attempts,
               r.template_id, r.inputs_key, r.inputs_bytes, r.group_name,
               ${SUBMITTED.status}::"JobStatus", ${SUBMITTED.phase}, 1, now()
        FROM jsonb_to_recordset(${records}::jsonb) AS r(
          id uuid, tenant_id text, name text, queue text, priority int, spec jsonb, labels jsonb,
          cpu_millis int, memory_bytes bigint, gpu int, pod_sets jsonb, offload_preference text,
          max_attempts int, template_id text, inputs_key text, inputs_bytes bigint,
          group_name text)${from}
        RETURNING ${JOB_ROW_SQL}
      ), ledger_history AS (
        INSERT INTO job_history (job_id, tenant_id, seq, status, phase)
        SELECT id, tenant_id, 1, status, phase FROM ledger_inserted
      ), ${this.outbox.cte(envelopes, sql`EXISTS (SELECT 1 FROM ledger_inserted)`)}
      ${select}`;
    return { rows, envelopes: rows.length > 0 ? envelopes : [] };
  }

  /** Runs the events through the state machine; the envelopes follow from the steps. */
  private plan(change: JobChange): Planned | { error: string } {
    const { job } = change;
    let state = job.state;
    const steps: LedgerStep[] = [];
    const envelopes: Envelope[] = [];
    const placement = change.set?.placement !== undefined ? change.set.placement : job.placement;
    for (const event of change.events) {
      const next = transition(state, event);
      if (!next.ok) return { error: next.error };
      if (!next.changed) continue;
      // The one place a seq is taken: every step gets the next one, a history row and an event.
      const seq = job.seq + steps.length + 1;
      envelopes.push(
        jobEventEnvelope({
          source: this.source,
          cause: event.type,
          from: state,
          to: next.state,
          seq,
          job,
          ...(change.set?.exitCode !== undefined ? { exitCode: change.set.exitCode } : {}),
          ...(placement !== undefined ? { placement } : {}),
          ...(event.type === 'restart' ? { restarts: event.restarts } : {}),
        }),
      );
      steps.push({ cause: event.type, state: next.state, seq });
      state = next.state;
    }
    return { change, steps, state, seq: job.seq + steps.length, envelopes };
  }
}

function hasColumns(set: JobColumns | undefined): boolean {
  return set !== undefined && Object.values(set).some((value) => value !== undefined);
}
