import type { FailureReason, JobState } from './job-state.js';
import { compareStrings } from './nodes.js';
import { podsUp } from './pods-ready.js';

/*
 * The few fields of batch/v1 Job and v1 Pod that roam's state depends on, typed minimally so
 * plain JSON from a watch and @kubernetes/client-node objects (which carry Dates) both fit.
 */
type KubeTime = string | Date;

export interface KubeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: KubeTime;
}

export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  creationTimestamp?: KubeTime;
  deletionTimestamp?: KubeTime;
}

export interface KubeJob {
  /** `JobSet` for a JobSet read as a Job (its failure policy, not its pods, settles it). */
  kind?: string;
  metadata?: KubeObjectMeta;
  spec?: { backoffLimit?: number; suspend?: boolean; parallelism?: number };
  status?: {
    conditions?: KubeCondition[];
    startTime?: KubeTime;
    completionTime?: KubeTime;
    active?: number;
    failed?: number;
    succeeded?: number;
    /** A JobSet's: how many times its failure policy recreated it in this attempt. */
    restarts?: number;
  };
}

export interface KubeContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: KubeTime };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt?: KubeTime;
    finishedAt?: KubeTime;
  };
}

export interface KubeContainerStatus {
  name: string;
  state?: KubeContainerState;
  lastState?: KubeContainerState;
}

export interface KubePod {
  metadata?: KubeObjectMeta;
  spec?: { nodeName?: string; nodeSelector?: Record<string, string> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: KubeTime;
    conditions?: KubeCondition[];
    containerStatuses?: KubeContainerStatus[];
    initContainerStatuses?: KubeContainerStatus[];
  };
}

/** Where a cluster job runs (the `placement` column). */
export interface ClusterPlacement {
  namespace?: string;
  job?: string;
  pod?: string;
  node?: string;
}

/**
 * The roam state a Kubernetes Job and its pods imply. Times are what Kubernetes recorded;
 * where it records none (e.g. roam fails an ImagePullBackOff that Kubernetes would retry
 * forever) `finishedAt` is absent and the reconciler stamps its own clock.
 */
export type ObservedJob = JobState & {
  exitCode?: number;
  startedAt?: Date;
  finishedAt?: Date;
  placement: ClusterPlacement;
};

/** Waiting reasons after which Kubernetes keeps retrying a pull that will not succeed by itself. */
const IMAGE_PULL_FAILURES = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

/** DisruptionTarget reasons: the node went away (Lost) vs. the pod was pushed off (Evicted). */
const LOST_DISRUPTIONS = new Set(['DeletionByTaintManager', 'DeletionByPodGC']);
const EVICTING_DISRUPTIONS = new Set([
  'TerminationByKubelet',
  'EvictionByEvictionAPI',
  'PreemptionByScheduler',
  'PreemptionByKubeScheduler',
]);

function toDate(time: KubeTime | undefined): Date | undefined {
  if (time === undefined) return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function condition(conditions: KubeCondition[] | undefined, type: string) {
  return conditions?.find((c) => c.type === type && c.status === 'True');
}

function containers(pod: KubePod): KubeContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** The container termination that explains the pod: a non-zero exit first. */
function termination(pod: KubePod | undefined) {
  if (!pod) return undefined;
  const ended = containers(pod).flatMap((c) =>
    c.state?.terminated ? [{ name: c.name, ...c.state.terminated }] : [],
  );
  return ended.find((t) => t.exitCode !== 0) ?? ended[0];
}

/** What went wrong with a pod, as specifically as its status says; undefined if nothing. */
function podFailure(pod: KubePod): { reason: FailureReason; message: string } | undefined {
  const status = pod.status ?? {};
  const disruption = condition(status.conditions, 'DisruptionTarget');
  const node = pod.spec?.nodeName ?? 'its node';
  if (status.reason === 'NodeLost' || LOST_DISRUPTIONS.has(disruption?.reason ?? '')) {
    return { reason: 'Lost', message: status.message ?? `pod was lost with ${node}` };
  }
  if (status.reason === 'Evicted' || EVICTING_DISRUPTIONS.has(disruption?.reason ?? '')) {
    return {
      reason: 'Evicted',
      message: status.message ?? disruption?.message ?? `pod was evicted from ${node}`,
    };
  }
  for (const c of containers(pod)) {
    const t = c.state?.terminated ?? c.lastState?.terminated;
    if (t?.reason === 'OOMKilled') {
      return {
        reason: 'OOMKilled',
        message: `container ${c.name} ran out of memory and was killed (exit code ${t.exitCode}); raise its memory request`,
      };
    }
  }
  for (const c of containers(pod)) {
    const w = c.state?.waiting;
    if (w?.reason && IMAGE_PULL_FAILURES.has(w.reason)) {
      return {
        reason: 'ImagePullBackOff',
        message: `container ${c.name} cannot pull its image (${w.reason})${w.message ? `: ${w.message}` : ''}`,
      };
    }
  }
  if (status.reason === 'DeadlineExceeded') {
    return { reason: 'DeadlineExceeded', message: status.message ?? 'pod exceeded its deadline' };
  }
  const t = termination(pod);
  if (status.phase === 'Failed') {
    return {
      reason: 'Error',
      message: t
        ? `container ${t.name} exited with code ${t.exitCode}`
        : (status.message ?? 'pod failed'),
    };
  }
  return undefined;
}

/** The pod of the current attempt: the newest, by creation time then name. */
export function latestPod(pods: readonly KubePod[]): KubePod | undefined {
  return [...pods].sort(
    (a, b) =>
      (toDate(b.metadata?.creationTimestamp)?.getTime() ?? 0) -
        (toDate(a.metadata?.creationTimestamp)?.getTime() ?? 0) ||
      compareStrings(b.metadata?.name ?? '', a.metadata?.name ?? ''),
  )[0];
}

function containerStart(pod: KubePod | undefined): Date | undefined {
  if (!pod) return undefined;
  for (const c of containers(pod)) {
    const started = toDate(c.state?.running?.startedAt ?? c.state?.terminated?.startedAt);
    if (started) return started;
  }
  return toDate(pod.status?.startTime);
}

/**
 * Maps a Kubernetes Job (null when it no longer exists) and its pods to the roam state they
 * imply. Precedence, most specific first: a Job condition (Complete / Failed) settles it, with
 * the pod's own cause (OOMKilled, Evicted, Lost) preferred over the generic
 * BackoffLimitExceeded, and DeadlineExceeded preferred over everything (the deadline is what
 * killed the pods). Without a condition the newest pod decides: an image that cannot be pulled
 * is a failure (Kubernetes would back off forever), a failed pod with no retries left is a
 * failure, a running container is Running, anything else is still Admitted/ContainerCreating.
 */
export function observeKubernetes(
  kubeJob: KubeJob | null | undefined,
  pods: readonly KubePod[],
  gangSize = 1,
): ObservedJob {
  if (!kubeJob) {
    return {
      status: 'failed',
      phase: 'Failed',
      reason: 'Lost',
      message: 'the Kubernetes Job no longer exists',
      placement: {},
    };
  }
  const pod = latestPod(pods);
  const placement: ClusterPlacement = {};
  if (kubeJob.metadata?.namespace) placement.namespace = kubeJob.metadata.namespace;
  if (kubeJob.metadata?.name) placement.job = kubeJob.metadata.name;
  if (pod?.metadata?.name) placement.pod = pod.metadata.name;
  if (pod?.spec?.nodeName) placement.node = pod.spec.nodeName;
  const ended = termination(pod);
  const times: Pick<ObservedJob, 'startedAt' | 'finishedAt' | 'exitCode'> = {};
  const startedAt = containerStart(pod);
  if (startedAt) times.startedAt = startedAt;
  if (ended) times.exitCode = ended.exitCode;

  const conditions = kubeJob.status?.conditions;
  const complete = condition(conditions, 'Complete') ?? condition(conditions, 'SuccessCriteriaMet');
  if (complete) {
    const finishedAt =
      toDate(kubeJob.status?.completionTime) ?? toDate(complete.lastTransitionTime);
    return {
      status: 'succeeded',
      phase: 'Succeeded',
      ...times,
      exitCode: ended?.exitCode ?? 0,
      ...(finishedAt ? { finishedAt } : {}),
      placement,
    };
  }

  const failed = condition(conditions, 'Failed') ?? condition(conditions, 'FailureTarget');
  if (failed) {
    const cause = pod ? podFailure(pod) : undefined;
    let reason: FailureReason;
    let message: string;
    if (failed.reason === 'DeadlineExceeded') {
      reason = 'DeadlineExceeded';
      message = failed.message ?? 'the Job ran longer than its deadline';
    } else if (cause && cause.reason !== 'Error') {
      ({ reason, message } = cause);
    } else if (failed.reason === 'BackoffLimitExceeded') {
      reason = 'BackoffLimitExceeded';
      message = cause?.message ?? failed.message ?? 'the Job has reached its backoff limit';
    } else {
      reason = 'Error';
      message =
        cause?.message ?? failed.message ?? `the Job failed (${failed.reason ?? 'no reason'})`;
    }
    const finishedAt = toDate(failed.lastTransitionTime) ?? toDate(ended?.finishedAt);
    return {
      status: 'failed',
      phase: 'Failed',
      reason,
      message,
      ...times,
      ...(finishedAt ? { finishedAt } : {}),
      placement,
    };
  }

  const admitted = (message: string): ObservedJob => ({
    status: 'pending',
    phase: 'Admitted',
    reason: 'ContainerCreating',
    message,
    ...times,
    placement,
  });
  if (kubeJob.spec?.suspend) return admitted('the Kubernetes Job is suspended');
  if (!pod) return admitted('waiting for the Job controller to create a pod');

  const cause = podFailure(pod);
  if (cause?.reason === 'ImagePullBackOff') {
    return { status: 'failed', phase: 'Failed', ...cause, ...times, placement };
  }
  if (cause && pod.status?.phase === 'Failed' && kubeJob.kind === 'JobSet') {
    // A JobSet restarts every pod or fails by its own failure policy (`max_restarts`): only
    // its Failed condition ends the attempt, however many of its pods failed before it.
    return admitted(
      `pod ${pod.metadata?.name ?? ''} failed (${cause.reason}: ${cause.message}); the JobSet's failure policy decides`,
    );
  }
  if (cause && pod.status?.phase === 'Failed') {
    // Without a Failed condition yet, the Job controller either replaces the pod or is about
    // to fail the Job; which one follows from the retries it has left.
    const failures = Math.max(
      kubeJob.status?.failed ?? 0,
      pods.filter((p) => p.status?.phase === 'Failed').length,
    );
    if (failures > (kubeJob.spec?.backoffLimit ?? 6)) {
      const finishedAt = toDate(ended?.finishedAt);
      return {
        status: 'failed',
        phase: 'Failed',
        ...cause,
        ...times,
        ...(finishedAt ? { finishedAt } : {}),
        placement,
      };
    }
    return admitted(
      `pod ${pod.metadata?.name ?? ''} failed (${cause.reason}: ${cause.message}); Kubernetes is retrying`,
    );
  }
  const phase = pod.status?.phase;
  // A gang runs when all of its pods do (gangs are admitted and timed out as a whole).
  const up = gangSize > 1 ? podsUp(pods) : gangSize;
  if ((phase === 'Running' || phase === 'Succeeded') && up < gangSize)
    return admitted(`${up} of ${gangSize} pods running; waiting for the rest of the gang`);
  if (phase === 'Running') return { status: 'running', phase: 'Running', ...times, placement };
  if (phase === 'Succeeded') {
    return {
      status: 'running',
      phase: 'Running',
      message: 'the pod succeeded; waiting for the Job to complete',
      ...times,
      placement,
    };
  }
  const waiting = containers(pod).find((c) => c.state?.waiting?.reason)?.state?.waiting;
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False',
  );
  return admitted(
    waiting?.reason
      ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`
      : unscheduled?.message
        ? `pod not scheduled yet: ${unscheduled.message}`
        : 'pod is pending',
  );
}
