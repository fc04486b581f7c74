import { capacityRequeue, type NodeOfPod, podCapacityLoss } from './capacity-loss.js';
import { type FailureReason, type JobState, transition } from './job-state.js';
import { jobStateOf } from './job-state-table.js';
import { type KubeJob, type KubePod, latestPod, observeKubernetes } from './kubernetes.js';
import { type GangSpec, gangSizeOf, podsReady, podsUp, requeueAt } from './pods-ready.js';
import { nextAttempt, type RetryPolicy } from './retry.js';

/**
 * The parts of a submitted JobSpec the reconciler's decisions read, in the spec's own
 * (snake_case, defaults applied) shape, so a parsed JobSpec fits as it is.
 */
export interface ReconcileSpec extends GangSpec {
  retry_policy?: {
    max_attempts?: number;
    on_exit_codes?: number[];
    on_reasons?: string[];
    backoff: { initial_seconds: number; factor: number; max_seconds: number };
  };
  ttl_seconds_after_finished: number;
  failure_policy?: { max_restarts?: number };
}

/** What the reconciler knows of a job from Postgres. */
export interface ReconcileRecord {
  id: string;
  tenantId: string;
  name: string;
  status: JobState['status'];
  phase: string;
  reason: string | null;
  message: string | null;
  attempt: number;
  /**
   * Attempts that ended through no fault of the job and were requeued without using a retry
   * (capacity lost): the retry policy counts `attempt - requeues` attempts.
   */
  requeues: number;
  /**
   * How many of its attempts were preempted (docs/scheduling.md#borrowing): each started a new
   * attempt, but a preemption is not a failure, so the retry policy does not count them.
   */
  preemptions?: number;
  /**
   * JobSet restarts (its own failure policy, not roam's retries) recorded over all attempts,
   * and how many of them were of attempt `restartsAttempt` (the JobSet's `status.restarts`
   * last recorded; a new attempt's JobSet counts from 0 again).
   */
  restarts?: number;
  attemptRestarts?: number;
  restartsAttempt?: number | null;
  seq: number;
  spec: ReconcileSpec;
  placement: Record<string, unknown> | null;
  admittedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  cleanupAt: Date | null;
  /**
   * What the storage worker has kept (docs/storage.md): when it finished storing the finished
   * job (every attempt's log, the last attempt's results, or their recorded failure), and which
   * attempts' logs are archived (or recorded as never archivable).
   */
  storedAt: Date | null;
  archivedAttempts: readonly number[];
  /**
   * When the row last changed. An admitted job, or one waiting in Kueue (its Job created
   * suspended), had its Job confirmed at or before this: its Lost grace counts from here.
   */
  changedAt: Date;
}

/** A Kubernetes Job of an earlier attempt, as the informers show it. */
export interface EarlierAttempt {
  attempt: number;
  /** When the Job finished; undefined when Kubernetes shows no end (the TTL counts from now). */
  finishedAt: Date | undefined;
}

/** What the informers show for the job's current attempt. */
export interface ReconcileObservation {
  kubeJob: KubeJob | undefined;
  pods: readonly KubePod[];
  /** False until the informers hold a full list: absence means nothing before that. */
  synced: boolean;
  /** Jobs of the job's earlier attempts still in the cluster. */
  earlier?: readonly EarlierAttempt[];
  /** What the node informer knows (or last knew) of the node the current pod ran on. */
  node?: NodeOfPod;
}

export interface ReconcileStep {
  event: 'started' | 'succeeded' | 'failed' | 'retried' | 'requeued' | 'restarted';
  state: JobState;
  /** `restarted`: the JobSet's restart count in this attempt. */
  restarts?: number;
}

export interface ReconcilePlan {
  steps: ReconcileStep[];
  /** Columns to set with the last step. */
  set: {
    exitCode?: number | null;
    startedAt?: Date | null;
    finishedAt?: Date | null;
    placement?: Record<string, unknown> | null;
    attempt?: number;
    requeues?: number;
    retryAt?: Date | null;
    admittedAt?: null;
    restarts?: number;
    attemptRestarts?: number;
    restartsAttempt?: number;
  };
  /** Delete this attempt's Kubernetes Job (cancelled, past its TTL, or an image that never pulls). */
  deleteKubeJob: boolean;
  /** Earlier attempts whose Jobs are past their TTL and stored: delete them. */
  deleteAttempts?: number[];
  /**
   * Attempts whose Jobs are due for deletion but kept until the storage worker has archived
   * what they hold (the storage backlog delays deletion, it never loses a log).
   */
  awaitingStorage?: number[];
  /** When to look again even if nothing changes (TTL expiry). */
  recheckAt?: Date;
}

export interface ReconcileOptions {
  now: Date;
  /** A Kubernetes Job that was confirmed created and is missing this long is Lost. */
  lostGraceMs: number;
  /**
   * Whether object storage or a results volume is configured. Without one there is nothing to
   * wait for: Jobs are deleted at their TTL, and logs live only as long as their pods.
   */
  storage: boolean;
  /** A gang not all running this long after admission is requeued (its spec may say otherwise). */
  waitForPodsReadySeconds?: number;
  /**
   * How many times a job may be requeued for lost capacity without using a retry
   * (docs/scheduling.md#capacity-loss); past it, a lost node is an ordinary failure.
   */
  maxRequeues: number;
}

/** Kueue's default `waitForPodsReady.timeout`. */
export const DEFAULT_WAIT_FOR_PODS_READY_SECONDS = 300;

const none = (): ReconcilePlan => ({ steps: [], set: {}, deleteKubeJob: false });

const stateOf = (record: ReconcileRecord): JobState => jobStateOf(record);

/** The JobSpec's `retry_policy` as `nextAttempt` reads it; no policy means a single attempt. */
export function retryPolicyOf(spec: ReconcileSpec): RetryPolicy {
  const policy = spec.retry_policy;
  return {
    maxAttempts: policy?.max_attempts ?? 1,
    ...(policy?.on_exit_codes ? { onExitCodes: policy.on_exit_codes } : {}),
    ...(policy?.on_reasons ? { onReasons: policy.on_reasons } : {}),
    backoff: {
      initialSeconds: policy?.backoff.initial_seconds ?? 10,
      factor: policy?.backoff.factor ?? 2,
      maxSeconds: policy?.backoff.max_seconds ?? 600,
    },
  };
}

/**
 * Whether what an attempt's Kubernetes Job holds is stored, so deleting the Job loses nothing
 * (docs/storage.md, "When Kubernetes Jobs are deleted"): its log is archived (or recorded as
 * never archivable, with the reason); for the last attempt of a succeeded or failed job, the
 * results are collected too (the job is `storedAt`). With no storage configured, nothing can
 * be kept, so nothing waits.
 */
export function attemptStored(
  record: ReconcileRecord,
  attempt: number,
  options: Pick<ReconcileOptions, 'storage'>,
): boolean {
  if (!options.storage || record.storedAt !== null) return true;
  if (attempt === record.attempt && (record.status === 'succeeded' || record.status === 'failed'))
    return false;
  return record.archivedAttempts.includes(attempt);
}

function finishedPlan(
  record: ReconcileRecord,
  observation: ReconcileObservation,
  options: ReconcileOptions,
): ReconcilePlan {
  const plan = none();
  const { now } = options;
  if (!observation.kubeJob || record.cleanupAt) return plan;
  const due =
    record.status === 'cancelled'
      ? now
      : new Date(
          (record.finishedAt ?? now).getTime() + record.spec.ttl_seconds_after_finished * 1000,
        );
  if (due > now) return { ...plan, recheckAt: due };
  if (!attemptStored(record, record.attempt, options))
    return { ...plan, awaitingStorage: [record.attempt] };
  return { ...plan, deleteKubeJob: true };
}

/**
 * Earlier attempts' Jobs are kept (with their logs) until the TTL after they finished, and
 * then until their log is archived; one that never finished, only until its log is archived.
 */
function earlierAttempts(
  record: ReconcileRecord,
  observation: ReconcileObservation,
  options: ReconcileOptions,
): Pick<ReconcilePlan, 'deleteAttempts' | 'awaitingStorage' | 'recheckAt'> {
  const { now } = options;
  const deleteAttempts: number[] = [];
  const awaitingStorage: number[] = [];
  let recheckAt: Date | undefined;
  for (const earlier of observation.earlier ?? []) {
    if (earlier.attempt >= record.attempt) continue;
    // An earlier attempt that never finished was superseded (preempted, its pods never ready,
    // requeued): no TTL keeps it, it goes once its log is stored. Kueue could readmit it else.
    const due = earlier.finishedAt
      ? new Date(earlier.finishedAt.getTime() + record.spec.ttl_seconds_after_finished * 1000)
      : now;
    if (due > now) {
      if (!recheckAt || due < recheckAt) recheckAt = due;
    } else if (attemptStored(record, earlier.attempt, options)) {
      deleteAttempts.push(earlier.attempt);
    } else {
      awaitingStorage.push(earlier.attempt);
    }
  }
  return {
    ...(deleteAttempts.length > 0 ? { deleteAttempts } : {}),
    ...(awaitingStorage.length > 0 ? { awaitingStorage } : {}),
    ...(recheckAt ? { recheckAt } : {}),
  };
}

/** The current attempt's plan with the earlier attempts' deletions folded in. */
function withEarlier(
  plan: ReconcilePlan,
  record: ReconcileRecord,
  observation: ReconcileObservation,
  options: ReconcileOptions,
): ReconcilePlan {
  const earlier = earlierAttempts(record, observation, options);
  const awaiting = [...(plan.awaitingStorage ?? []), ...(earlier.awaitingStorage ?? [])];
  const recheckAt =
    plan.recheckAt && earlier.recheckAt
      ? new Date(Math.min(plan.recheckAt.getTime(), earlier.recheckAt.getTime()))
      : (plan.recheckAt ?? earlier.recheckAt);
  const { awaitingStorage: _awaiting, recheckAt: _recheck, ...rest } = plan;
  const deleteAttempts = [...(plan.deleteAttempts ?? []), ...(earlier.deleteAttempts ?? [])];
  return {
    ...rest,
    ...(deleteAttempts.length > 0 ? { deleteAttempts } : {}),
    ...(awaiting.length > 0 ? { awaitingStorage: awaiting.sort((a, b) => a - b) } : {}),
    ...(recheckAt ? { recheckAt } : {}),
  };
}

/**
 * The restarts of the attempt's JobSet not recorded yet: one `restarted` step each (through
 * `step`, which says whether the state machine took it), then the counters to write with
 * them. Nothing when the JobSet shows no more than the row holds for this attempt.
 */
function jobSetRestarts(
  record: ReconcileRecord,
  kubeJob: KubeJob | undefined,
  step: (restarts: number, message: string) => boolean,
): Pick<ReconcilePlan['set'], 'restarts' | 'attemptRestarts' | 'restartsAttempt'> {
  const seen = kubeJob?.status?.restarts ?? 0;
  const recorded = record.restartsAttempt === record.attempt ? (record.attemptRestarts ?? 0) : 0;
  if (seen <= recorded) return {};
  const max = record.spec.failure_policy?.max_restarts ?? 0;
  let taken = recorded;
  for (let n = recorded + 1; n <= seen; n += 1) {
    const message = `the JobSet of attempt ${record.attempt} was restarted by its failure policy (restart ${n} of at most ${max}): all its pods are recreated; this uses none of roam's retries`;
    if (!step(n, message)) break;
    taken = n;
  }
  if (taken === recorded) return {};
  return {
    restarts: (record.restarts ?? 0) + (taken - recorded),
    attemptRestarts: taken,
    restartsAttempt: record.attempt,
  };
}

/**
 * Moves a job forward from what Kubernetes shows (level-triggered: it looks at state, not
 * at which watch event arrived, so a replayed or missed event changes nothing), and says which
 * of its Kubernetes Jobs may go: one past its TTL (or cancelled) whose log and results are
 * stored. Pure: the reconciler applies the plan in one transaction.
 */
export function planReconcile(
  record: ReconcileRecord,
  observation: ReconcileObservation,
  options: ReconcileOptions,
): ReconcilePlan {
  return withEarlier(currentPlan(record, observation, options), record, observation, options);
}

function currentPlan(
  record: ReconcileRecord,
  observation: ReconcileObservation,
  options: ReconcileOptions,
): ReconcilePlan {
  const { now } = options;
  if (
    record.status === 'succeeded' ||
    record.status === 'failed' ||
    record.status === 'cancelled'
  ) {
    return finishedPlan(record, observation, options);
  }
  if (!observation.synced) return none();
  // ROAM_ADMISSION=kueue: a job waiting in Kueue has its Job (created suspended, placement
  // confirmed) but is not admitted. What Kueue says of it is the scheduler's to record; the Job
  // vanishing (deleted out from under roam) is Lost here, as for an admitted job.
  const waitingInKueue =
    record.status === 'pending' && record.admittedAt === null && record.placement !== null;
  if (waitingInKueue) {
    if (observation.kubeJob) return none();
    if (now.getTime() - record.changedAt.getTime() <= options.lostGraceMs) return none();
  }
  // Other queued jobs belong to the scheduler; admitted ones wait for their Job to be confirmed.
  else if (record.admittedAt === null) return none();
  else if (!observation.kubeJob) {
    // The grace counts from the confirmation (it sets `changedAt`), not from admission: under
    // load a Job may be created long after its admission, and the informers see it later still.
    const confirmed = record.placement !== null;
    const late = now.getTime() - record.changedAt.getTime() > options.lostGraceMs;
    if (record.status !== 'running' && !(confirmed && late)) return none();
  }

  // A multi-host TPU slice names no parallelism: its Job's pods are its hosts (one each).
  const gangSize = Math.max(gangSizeOf(record.spec), observation.kubeJob?.spec?.parallelism ?? 1);
  const observed = observeKubernetes(observation.kubeJob ?? null, observation.pods, gangSize);
  let state = stateOf(record);
  const steps: ReconcileStep[] = [];
  const apply = (
    event: ReconcileStep['event'],
    input: Parameters<typeof transition>[1],
    restarts?: number,
  ) => {
    const result = transition(state, input);
    if (!result.ok || !result.changed) return false;
    state = result.state;
    steps.push({ event, state, ...(restarts !== undefined ? { restarts } : {}) });
    return true;
  };
  const set: ReconcilePlan['set'] = {};
  if (observed.placement && Object.keys(observed.placement).length > 0)
    set.placement = { ...observed.placement };
  Object.assign(
    set,
    jobSetRestarts(record, observation.kubeJob, (n, message) =>
      apply('restarted', { type: 'restart', restarts: n, message }, n),
    ),
  );

  if (
    observed.phase === 'Running' ||
    observed.phase === 'Succeeded' ||
    observed.phase === 'Failed'
  ) {
    // A short-lived pod may finish between two observations: record that it started.
    if (state.phase === 'Admitted' && (observed.phase === 'Running' || observed.startedAt)) {
      apply('started', { type: 'start', message: 'the pod is running' });
      set.startedAt = observed.startedAt ?? observed.finishedAt ?? now;
    }
  }
  if (observed.phase === 'Succeeded') {
    apply('succeeded', { type: 'succeed', message: 'the job completed' });
    set.finishedAt = observed.finishedAt ?? now;
    set.exitCode = observed.exitCode ?? 0;
  }
  let pullFailure = false;
  if (observed.phase === 'Failed') {
    // roam's Jobs have backoffLimit 0: the container's exit is the cause, not the limit.
    const reason: FailureReason =
      observed.reason === 'BackoffLimitExceeded' && observed.exitCode !== undefined
        ? 'Error'
        : observed.reason;
    let message = observed.message ?? reason;
    pullFailure = reason === 'ImagePullBackOff';
    // The node went away under the pod: not the job's fault, so no retry is used (bounded).
    const loss = podCapacityLoss(latestPod(observation.pods), observation.node);
    const requeue = loss && capacityRequeue(loss, record.requeues, options.maxRequeues);
    if (requeue?.requeue) {
      if (apply('requeued', { type: 'requeue', reason: 'CapacityLost', message: requeue.message }))
        Object.assign(set, {
          attempt: record.attempt + 1,
          requeues: record.requeues + 1,
          retryAt: null,
          admittedAt: null,
          placement: null,
          startedAt: null,
          finishedAt: null,
          exitCode: observed.exitCode ?? null,
        });
      return { steps, set, deleteKubeJob: false };
    }
    if (requeue) message = requeue.message;
    const decision = nextAttempt(
      retryPolicyOf(record.spec),
      record.attempt - record.requeues - (record.preemptions ?? 0),
      { reason, ...(observed.exitCode !== undefined ? { exitCode: observed.exitCode } : {}) },
      now,
    );
    if (decision.retry) {
      if (
        apply('retried', {
          type: 'retry',
          message: `attempt ${record.attempt} failed (${reason}: ${message}); retrying at ${decision.at.toISOString()}`,
        })
      ) {
        Object.assign(set, {
          attempt: record.attempt + 1,
          retryAt: decision.at,
          admittedAt: null,
          placement: null,
          startedAt: null,
          finishedAt: null,
          exitCode: observed.exitCode ?? null,
        });
      }
    } else {
      apply('failed', { type: 'fail', reason, message: `${message}; ${decision.why}` });
      set.finishedAt = observed.finishedAt ?? now;
      set.exitCode = observed.exitCode ?? null;
    }
  }
  // An image that never pulls keeps its Job retrying forever, and holds its namespace's quota:
  // it goes at once. Its container never started, so there is no log and no result to lose.
  // Other finished attempts keep their Job (and its logs) until the TTL and until stored; the
  // resync removes old attempts' Jobs then.
  const deleteKubeJob = observation.kubeJob !== undefined && pullFailure && steps.length > 0;
  if (
    state.phase === 'Admitted' &&
    record.admittedAt !== null &&
    record.placement !== null &&
    observation.kubeJob !== undefined
  ) {
    const verdict = podsReady({
      admittedAt: record.admittedAt,
      now,
      timeoutSeconds:
        record.spec.wait_for_pods_ready_seconds ??
        options.waitForPodsReadySeconds ??
        DEFAULT_WAIT_FOR_PODS_READY_SECONDS,
      gangSize,
      up: podsUp(observation.pods),
    });
    if (verdict.kind === 'waiting')
      return { steps, set, deleteKubeJob, recheckAt: verdict.deadline };
    if (verdict.kind === 'timedOut') {
      // Not a failure: the attempt's objects go, and the job waits out a backoff and is admitted
      // again as a whole (a new attempt, so its objects get new names).
      const at = requeueAt(retryPolicyOf(record.spec), record.attempt, now);
      apply('retried', {
        type: 'retry',
        message: `${verdict.message}; readmitted after ${at.toISOString()}`,
      });
      return {
        steps,
        set: {
          attempt: record.attempt + 1,
          retryAt: at,
          admittedAt: null,
          placement: null,
          startedAt: null,
          finishedAt: null,
          exitCode: null,
        },
        deleteKubeJob: false,
        deleteAttempts: [record.attempt],
      };
    }
  }
  return { steps, set, deleteKubeJob };
}
