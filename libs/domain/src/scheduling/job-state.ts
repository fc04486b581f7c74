import type { WaitReason } from './admission.js';

/** The status every API shows, spelled as the replaced systems spell it. */
export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The closed set of phases: the variants of `JobState` (its table is `JOB_PHASES`). */
export type JobPhase = JobState['phase'];

/**
 * Why a job is queued: an admission wait reason, waiting out a retry's backoff, waiting for its
 * dependencies, or kept although one of them can no longer be met (`on_dependency_failure: keep`).
 */
export type QueuedReason =
  | WaitReason
  | 'RetryBackoff'
  | 'Preempted'
  | DependencyWaitReason
  | RequeueReason
  | CapacityWaitReason;

/**
 * Admission's finding that the capacity a waiting job needs is gone rather than busy: every node
 * that could hold it is cordoned or NotReady (docs/scheduling.md#capacity-loss). A job that
 * allows offload is offered to RunPod at once; one that does not waits, saying so.
 */
export type CapacityWaitReason = 'CapacityUnavailable';

/**
 * Why a job went back to the queue through no fault of its own: the attempt ends, the next one
 * is a new Kubernetes Job, and no retry of the job's retry policy is used
 * (docs/scheduling.md#capacity-loss). `CapacityLost`: the node under it went away (deleted,
 * spot capacity reclaimed, drained), or no usable node can take it while the nodes that could
 * are cordoned or NotReady. Other causes that are not the job's fault (a preemption) belong here.
 */
export type RequeueReason = 'CapacityLost';

/** Queued by its dependencies rather than by admission. */
export type DependencyWaitReason = 'WaitingForDependency' | 'DependencyNeverSatisfied';

/** Why a job was cancelled: a tenant's cancel, or a dependency that can no longer be met. */
export type CancelReason = 'CancelledByUser' | 'DependencyFailed';

/** Why a run failed. `Error` is a container that exited non-zero for no more specific reason. */
export type FailureReason =
  | 'Error'
  | 'OOMKilled'
  | 'DeadlineExceeded'
  | 'BackoffLimitExceeded'
  | 'ImagePullBackOff'
  | 'Evicted'
  | 'Lost';

export const FAILURE_REASONS: readonly FailureReason[] = [
  'Error',
  'OOMKilled',
  'DeadlineExceeded',
  'BackoffLimitExceeded',
  'ImagePullBackOff',
  'Evicted',
  'Lost',
];

/**
 * status + phase + reason, as stored on the job row (docs/architecture.md#jobs). Status follows
 * from phase, so the union makes an inconsistent pair (`running` + `Queued`) unrepresentable.
 */
export type JobState = { message?: string } & (
  | { status: 'pending'; phase: 'Submitted'; reason?: undefined }
  | { status: 'pending'; phase: 'Queued'; reason: QueuedReason }
  | { status: 'pending'; phase: 'Admitted'; reason: 'ContainerCreating' }
  | { status: 'running'; phase: 'Running'; reason?: 'Offloaded' }
  | { status: 'succeeded'; phase: 'Succeeded'; reason?: undefined }
  | { status: 'failed'; phase: 'Failed'; reason: FailureReason }
  | { status: 'cancelled'; phase: 'Cancelled'; reason?: CancelReason }
);

/** Every reason a job row may carry, whatever its phase. */
export type JobReason = NonNullable<JobState['reason']>;

export type JobEvent = { message?: string } &
  /** Waiting for admission (again), with the reason `decide` gave, or for dependencies. */
  (
    | { type: 'queue'; reason: WaitReason | DependencyWaitReason | CapacityWaitReason }
    | { type: 'admit' }
    | { type: 'start' }
    /** Placed outside the cluster (RunPod): runs as Running/Offloaded. */
    | { type: 'offload' }
    | { type: 'succeed' }
    | { type: 'fail'; reason: FailureReason }
    /** The attempt failed and the retry policy retries it: back to the queue until `retryAt`. */
    | { type: 'retry' }
    /**
     * The attempt ended for a reason that is not the job's fault (`RequeueReason`): back to the
     * queue for a new attempt that does not count against the retry policy.
     */
    | { type: 'requeue'; reason: RequeueReason }
    | { type: 'cancel'; reason?: CancelReason }
    /** A failed job run again on request (an array's failed elements): submitted anew. */
    | { type: 'rerun' }
    /**
     * Evicted to make room (a cohort member reclaiming its guarantee, or a higher-priority job
     * of its tenant): back to the queue as a new attempt that does not count as a retry.
     */
    | { type: 'preempt' }
    /**
     * A JobSet's own failure policy recreated its pods (`failure_policy.max_restarts`): the job
     * keeps its state and attempt, and the step is recorded and announced (`job.restarted`).
     * `restarts` is the JobSet's count in this attempt. Not a retry of roam's.
     */
    | { type: 'restart'; restarts: number }
  );

export type TransitionResult =
  /** `changed` is false for a no-op (duplicate event, cancel of a finished job): no history row. */
  { ok: true; state: JobState; changed: boolean } | { ok: false; error: string };

export const SUBMITTED: JobState = { status: 'pending', phase: 'Submitted' };

export type FinishedJobState = Extract<JobState, { phase: 'Succeeded' | 'Failed' | 'Cancelled' }>;

export function isFinished(state: JobState): state is FinishedJobState {
  return state.phase === 'Succeeded' || state.phase === 'Failed' || state.phase === 'Cancelled';
}

/** "Queued/WaitingForQuota", "Running", … as shown in lists and events. */
export function phaseLabel(state: JobState): string {
  return state.reason ? `${state.phase}/${state.reason}` : state.phase;
}

/** Which events each non-terminal phase accepts (besides duplicates, which are no-ops). */
const ACCEPTS: Record<
  Exclude<JobPhase, FinishedJobState['phase']>,
  ReadonlySet<JobEvent['type']>
> = {
  Submitted: new Set(['queue', 'admit', 'offload', 'fail', 'cancel']),
  // retry: with ROAM_ADMISSION=kueue a queued job already has its (suspended) Job, which can be lost.
  Queued: new Set(['queue', 'admit', 'offload', 'fail', 'retry', 'cancel']),
  // queue: admission undone before the pod started (Kubernetes object lost, offload fallback).
  // succeed/fail: an observation may skip Running when the pod was short-lived.
  Admitted: new Set([
    'queue',
    'start',
    'offload',
    'succeed',
    'fail',
    'retry',
    'requeue',
    'cancel',
    'preempt',
  ]),
  // queue: Kueue evicted it (ROAM_ADMISSION=kueue); its Job waits, suspended, to be readmitted.
  // requeue: the node under it went away (capacity lost); a new attempt, no retry used.
  // preempt: room for a job that reclaims a guarantee or has higher priority (docs/scheduling.md).
  Running: new Set(['queue', 'succeed', 'fail', 'retry', 'requeue', 'cancel', 'preempt']),
};

function withMessage<T extends JobState>(state: T, message: string | undefined): T {
  return message === undefined ? state : { ...state, message };
}

/** The state an event leads to, wherever it comes from. */
function target(event: JobEvent): JobState {
  switch (event.type) {
    case 'queue':
      return withMessage(
        { status: 'pending', phase: 'Queued', reason: event.reason },
        event.message,
      );
    case 'admit':
      return withMessage(
        { status: 'pending', phase: 'Admitted', reason: 'ContainerCreating' },
        event.message,
      );
    case 'start':
      return withMessage({ status: 'running', phase: 'Running' }, event.message);
    case 'offload':
      return withMessage(
        { status: 'running', phase: 'Running', reason: 'Offloaded' },
        event.message,
      );
    case 'succeed':
      return withMessage({ status: 'succeeded', phase: 'Succeeded' }, event.message);
    case 'fail':
      return withMessage(
        { status: 'failed', phase: 'Failed', reason: event.reason },
        event.message,
      );
    case 'retry':
      return withMessage(
        { status: 'pending', phase: 'Queued', reason: 'RetryBackoff' },
        event.message,
      );
    case 'requeue':
      return withMessage(
        { status: 'pending', phase: 'Queued', reason: event.reason },
        event.message,
      );
    case 'cancel':
      return withMessage(
        event.reason
          ? { status: 'cancelled', phase: 'Cancelled', reason: event.reason }
          : { status: 'cancelled', phase: 'Cancelled' },
        event.message,
      );
    case 'rerun':
      return withMessage(SUBMITTED, event.message);
    case 'preempt':
      return withMessage(
        { status: 'pending', phase: 'Queued', reason: 'Preempted' },
        event.message,
      );
    case 'restart':
      // Keeps whatever state the job is in: `transition` handles it before asking here.
      throw new Error('a restart keeps the job state; transition() decides it');
  }
}

/**
 * A JobSet restart: accepted while the attempt holds its pods (Admitted or Running), always a
 * step (the count only grows, and the reconciler sends each count once), the state unchanged
 * but for the message.
 */
function restartOf(current: JobState, event: JobEvent): TransitionResult {
  if (current.phase !== 'Admitted' && current.phase !== 'Running')
    return {
      ok: false,
      error: `cannot restart a job that is ${phaseLabel(current)}: only an admitted or running JobSet restarts`,
    };
  const { message: _previous, ...state } = current;
  return { ok: true, state: withMessage(state as JobState, event.message), changed: true };
}

/**
 * Applies one event. Rules: a finished job never changes (a repeat of the event that finished
 * it, or a cancel, is a no-op), except that a failed one may be rerun; an event that leads to the state the job is already in is a
 * no-op that only refreshes the message (at-least-once delivery repeats events); anything else
 * must be in `ACCEPTS`, so e.g. a queued job cannot succeed and a running job cannot be
 * re-admitted.
 */
export function transition(current: JobState, event: JobEvent): TransitionResult {
  if (event.type === 'restart') return restartOf(current, event);
  const next = target(event);
  const same = next.phase === current.phase && next.reason === current.reason;
  if (current.phase === 'Failed' && event.type === 'rerun') {
    return { ok: true, state: next, changed: true };
  }
  if (isFinished(current)) {
    if (same || event.type === 'cancel') return { ok: true, state: current, changed: false };
    return {
      ok: false,
      error: `job is ${phaseLabel(current)}; a finished job never changes (got ${event.type})`,
    };
  }
  // A repeated observation of a running job: keep its reason (Offloaded stays Offloaded).
  if (same || (event.type === 'start' && current.phase === 'Running')) {
    return { ok: true, state: withMessage(current, event.message), changed: false };
  }
  if (!ACCEPTS[current.phase].has(event.type)) {
    return {
      ok: false,
      error: `cannot ${event.type} a job that is ${phaseLabel(current)} (to ${phaseLabel(next)})`,
    };
  }
  return { ok: true, state: next, changed: true };
}
