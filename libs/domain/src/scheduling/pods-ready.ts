import type { KubePod } from './kubernetes.js';
import type { RetryPolicy } from './retry.js';

/**
 * The parts of a JobSpec that say how many pods a job runs at once, in the spec's own shape:
 * an indexed Job's `parallelism`/`completions`, a JobSet's replicated jobs.
 */
export interface GangSpec {
  parallelism?: number;
  completions?: number;
  replicated_jobs?: readonly { replicas: number; parallelism?: number }[];
  wait_for_pods_ready_seconds?: number;
}

/**
 * How many pods of the job must run at once: 1 for a single-pod job, an indexed Job's
 * parallelism (at most its completions), a JobSet's replicas × parallelism summed.
 */
export function gangSizeOf(spec: GangSpec): number {
  if (spec.replicated_jobs)
    return spec.replicated_jobs.reduce((n, rj) => n + rj.replicas * (rj.parallelism ?? 1), 0);
  if (spec.parallelism === undefined && spec.completions === undefined) return 1;
  const parallelism = spec.parallelism ?? spec.completions ?? 1;
  return Math.min(parallelism, spec.completions ?? parallelism);
}

/** Pods of the gang that run or have finished well (a deleted pod no longer counts). */
export function podsUp(pods: readonly KubePod[]): number {
  return pods.filter(
    (pod) =>
      !pod.metadata?.deletionTimestamp &&
      (pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded'),
  ).length;
}

export interface PodsReadyInput {
  /** When the gang was admitted (its objects are created right after). */
  admittedAt: Date;
  now: Date;
  /** The job's `wait_for_pods_ready_seconds`, or the configured default. */
  timeoutSeconds: number;
  gangSize: number;
  /** Pods of the current attempt that run (or have succeeded). */
  up: number;
}

export type PodsReadyVerdict =
  /** Every pod of the gang runs (or a single-pod job: nothing to wait for). */
  | { kind: 'ready' }
  /** Not all running yet; look again at `deadline`. */
  | { kind: 'waiting'; deadline: Date }
  /** The timeout passed with pods missing: take the attempt down and requeue it. */
  | { kind: 'timedOut'; message: string };

/**
 * Kueue's `waitForPodsReady`: an admitted gang whose pods do not all run within the timeout
 * holds quota and nodes for nothing (and may block another gang that would fit), so it is
 * taken down and requeued, not left half-running. Single pods are never timed out.
 */
export function podsReady(input: PodsReadyInput): PodsReadyVerdict {
  if (input.gangSize <= 1 || input.up >= input.gangSize) return { kind: 'ready' };
  const deadline = new Date(input.admittedAt.getTime() + input.timeoutSeconds * 1000);
  if (input.now < deadline) return { kind: 'waiting', deadline };
  return {
    kind: 'timedOut',
    message: `only ${input.up} of ${input.gangSize} pods were running ${input.timeoutSeconds}s after admission (wait_for_pods_ready_seconds); the attempt was taken down and the job requeued`,
  };
}

/**
 * When a requeued gang may be admitted again: the retry policy's backoff for the attempt that
 * timed out (a requeue is no failure, so `max_attempts` is not consulted).
 */
export function requeueAt(policy: RetryPolicy, attempt: number, now: Date): Date {
  const { initialSeconds, factor, maxSeconds } = policy.backoff;
  const delay = Math.min(maxSeconds, initialSeconds * Math.max(1, factor) ** (attempt - 1));
  return new Date(now.getTime() + delay * 1000);
}
