import { type FailureReason, type JobState, transition } from './job-state.js';
import { jobStateOf } from './job-state-table.js';
import { type KubeJob, type KubePod, observeKubernetes } from './kubernetes.js';
import { nextAttempt, type RetryPolicy } from './retry.js';

/**
 * The parts of a submitted JobSpec the reconciler's decisions read, in the spec's own
 * (snake_case, defaults applied) shape, so a parsed JobSpec fits as it is.
 */
export interface ReconcileSpec {
  retry_policy?: {
    max_attempts?: number;
    on_exit_codes?: number[];
    on_reasons?: string[];
    backoff: { initial_seconds: number; factor: number; max_seconds: number };
  };
  ttl_seconds_after_finished: number;
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
  seq: number;
  spec: ReconcileSpec;
  placement: Record<string, unknown> | null;
  admittedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  cleanupAt: Date | null;
}

/** What the informers show for the job's current attempt. */
export interface ReconcileObservation {
  kubeJob: KubeJob | undefined;
  pods: readonly KubePod[];
  /** False until the informers hold a full list: absence means nothing before that. */
  synced: boolean;
}

export interface ReconcileStep {
  event: 'started' | 'succeeded' | 'failed' | 'retried';
  state: JobState;
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
    retryAt?: Date | null;
    admittedAt?: null;
  };
  /** Delete this attempt's Kubernetes Job (cancelled, past its TTL, or an image that never pulls). */
  deleteKubeJob: boolean;
  /** When to look again even if nothing changes (TTL expiry). */
  recheckAt?: Date;
}

export interface ReconcileOptions {
  now: Date;
  /** A Kubernetes Job that was confirmed created and is missing this long is Lost. */
  lostGraceMs: number;
}

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

function finishedPlan(
  record: ReconcileRecord,
  observation: ReconcileObservation,
  now: Date,
): ReconcilePlan {
  const plan = none();
  if (!observation.kubeJob || record.cleanupAt) return plan;
  if (record.status === 'cancelled') return { ...plan, deleteKubeJob: true };
  const due = new Date(
    (record.finishedAt ?? now).getTime() + record.spec.ttl_seconds_after_finished * 1000,
  );
  if (due <= now) return { ...plan, deleteKubeJob: true };
  return { ...plan, recheckAt: due };
}

/**
 * Moves a job forward from what Kubernetes shows (level-triggered: it looks at state, not
 * at which watch event arrived, so a replayed or missed event changes nothing). Pure: the
 * reconciler applies the plan in one transaction.
 */
export function planReconcile(
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
    return finishedPlan(record, observation, now);
  }
  // Queued jobs belong to the scheduler; admitted ones wait for their Job to be confirmed.
  if (record.admittedAt === null || !observation.synced) return none();
  if (!observation.kubeJob) {
    const confirmed = record.placement !== null;
    const late = now.getTime() - record.admittedAt.getTime() > options.lostGraceMs;
    if (record.status !== 'running' && !(confirmed && late)) return none();
  }

  const observed = observeKubernetes(observation.kubeJob ?? null, observation.pods);
  let state = stateOf(record);
  const steps: ReconcileStep[] = [];
  const apply = (event: ReconcileStep['event'], input: Parameters<typeof transition>[1]) => {
    const result = transition(state, input);
    if (!result.ok || !result.changed) return false;
    state = result.state;
    steps.push({ event, state });
    return true;
  };
  const set: ReconcilePlan['set'] = {};
  if (observed.placement && Object.keys(observed.placement).length > 0)
    set.placement = { ...observed.placement };

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
    const message = observed.message ?? reason;
    pullFailure = reason === 'ImagePullBackOff';
    const decision = nextAttempt(
      retryPolicyOf(record.spec),
      record.attempt,
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
  // An image that never pulls keeps its Job retrying forever. Other finished attempts keep
  // their Job (and its logs) until the TTL; the resync removes old attempts' Jobs then.
  const deleteKubeJob = observation.kubeJob !== undefined && pullFailure && steps.length > 0;
  return { steps, set, deleteKubeJob };
}
