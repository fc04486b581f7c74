import type { JobPhase, JobReason, JobState, JobStatus } from './job-state.js';

type StateOf<P extends JobPhase> = Extract<JobState, { phase: P }>;
type ReasonOf<P extends JobPhase> = NonNullable<StateOf<P>['reason']>;

/**
 * What a phase allows. `reasons` is a total table of the phase's reasons and `reasonRequired`
 * must match the union, so a phase or reason added to `JobState` fails compilation here until
 * this table (and with it the parser and the database constraint's test) knows it.
 */
interface PhaseRule<P extends JobPhase> {
  status: StateOf<P>['status'];
  reasons: { readonly [R in ReasonOf<P>]: true };
  reasonRequired: undefined extends StateOf<P>['reason'] ? false : true;
}

const FAILURE = {
  Error: true,
  OOMKilled: true,
  DeadlineExceeded: true,
  BackoffLimitExceeded: true,
  ImagePullBackOff: true,
  Evicted: true,
  Lost: true,
} as const;

export const JOB_PHASES: { readonly [P in JobPhase]: PhaseRule<P> } = {
  Submitted: { status: 'pending', reasons: {}, reasonRequired: false },
  Queued: {
    status: 'pending',
    reasons: {
      ConcurrencyLimit: true,
      WaitingForQuota: true,
      InsufficientCapacity: true,
      Unschedulable: true,
      WaitingForOlderJob: true,
      Offload: true,
      UnknownTenant: true,
      RetryBackoff: true,
      Preempted: true,
      WaitingForDependency: true,
      DependencyNeverSatisfied: true,
      CapacityLost: true,
      CapacityUnavailable: true,
    },
    reasonRequired: true,
  },
  Admitted: { status: 'pending', reasons: { ContainerCreating: true }, reasonRequired: true },
  Running: { status: 'running', reasons: { Offloaded: true }, reasonRequired: false },
  Succeeded: { status: 'succeeded', reasons: {}, reasonRequired: false },
  Failed: { status: 'failed', reasons: FAILURE, reasonRequired: true },
  Cancelled: {
    status: 'cancelled',
    reasons: { CancelledByUser: true, DependencyFailed: true },
    reasonRequired: false,
  },
};

/** The same table, read without the per-phase types. */
const RULES: Readonly<
  Record<JobPhase, { status: JobStatus; reasons: object; reasonRequired: boolean }>
> = JOB_PHASES;

/** A job row's state columns as stored (`jobs` and `job_history`). */
export interface JobStateColumns {
  status: string;
  phase: string;
  reason?: string | null;
  message?: string | null;
}

export type ParsedJobState = { ok: true; state: JobState } | { ok: false; error: string };

const has = (table: object, key: string): boolean => Object.hasOwn(table, key);

/**
 * Turns stored columns into a `JobState`, or says what is wrong with them. The one place a
 * row becomes a state: nothing else casts.
 */
export function parseJobState(row: JobStateColumns): ParsedJobState {
  const { status, phase } = row;
  const reason = row.reason ?? undefined;
  if (!has(JOB_PHASES, phase)) {
    return { ok: false, error: `unknown job phase "${phase}"` };
  }
  const rule = RULES[phase as JobPhase];
  if (status !== rule.status) {
    return {
      ok: false,
      error: `job phase ${phase} has status ${rule.status}, not "${status}"`,
    };
  }
  if (reason === undefined) {
    if (rule.reasonRequired) return { ok: false, error: `job phase ${phase} needs a reason` };
  } else if (!has(rule.reasons, reason)) {
    const allowed = Object.keys(rule.reasons);
    return {
      ok: false,
      error: `"${reason}" is not a reason of job phase ${phase} (${allowed.length > 0 ? `one of ${allowed.join(', ')}` : 'it has none'})`,
    };
  }
  // Checked field by field above against the table that mirrors the union.
  const state = { status, phase, ...(reason === undefined ? {} : { reason }) } as JobState;
  return { ok: true, state: row.message == null ? state : { ...state, message: row.message } };
}

export class InvalidJobStateError extends Error {
  constructor(
    readonly row: JobStateColumns,
    reason: string,
  ) {
    super(`invalid job state ${row.status}/${row.phase}/${row.reason ?? '-'}: ${reason}`);
    this.name = 'InvalidJobStateError';
  }
}

/** `parseJobState` for rows read back from the database, where a bad state is a bug: throws. */
export function jobStateOf(row: JobStateColumns): JobState {
  const parsed = parseJobState(row);
  if (!parsed.ok) throw new InvalidJobStateError(row, parsed.error);
  return parsed.state;
}

/** Every legal (status, phase, reason) triple: what the database's constraint must accept. */
export function legalJobStates(): JobState[] {
  const states: JobState[] = [];
  for (const phase of Object.keys(JOB_PHASES) as JobPhase[]) {
    const rule = RULES[phase];
    const reasons = Object.keys(rule.reasons) as JobReason[];
    const candidates = [...(rule.reasonRequired ? [] : [undefined]), ...reasons];
    for (const reason of candidates) {
      states.push(jobStateOf({ status: rule.status, phase, reason: reason ?? null }));
    }
  }
  return states;
}

/** Every status, phase and reason there is (for the database's constraint and its test). */
export const JOB_STATUSES: readonly JobStatus[] = [
  ...new Set(Object.values(RULES).map((rule) => rule.status)),
];
export const JOB_REASONS: readonly JobReason[] = [
  ...new Set(Object.values(RULES).flatMap((rule) => Object.keys(rule.reasons))),
] as JobReason[];
