/**
 * When a failed attempt is tried again. The reconciler calls `nextAttempt` when an attempt
 * fails; a retry re-queues the job (Queued/RetryBackoff) with `retryAt`, and the next attempt is
 * a new Kubernetes Job, so Kubernetes' own `backoffLimit` stays 0 and roam owns the policy.
 */
export interface RetryPolicy {
  /** Total attempts including the first; 1 means never retry. */
  maxAttempts: number;
  /** Retry only when the container exited with one of these codes… */
  onExitCodes?: number[];
  /** …or the attempt failed for one of these reasons (OOMKilled, Evicted, Lost, DeadlineExceeded…). */
  onReasons?: string[];
  backoff: { initialSeconds: number; factor: number; maxSeconds: number };
}

export interface AttemptFailure {
  exitCode?: number;
  /** The failure reason of the attempt, as the job state model names it (e.g. `OOMKilled`). */
  reason: string;
}

export type RetryDecision = { retry: true; at: Date } | { retry: false; why: string };

/** Attempts that never retry: what failed was roam's decision or the user's, not the run. */
const NEVER_RETRIED = new Set(['Cancelled']);

/**
 * `attempt` is the 1-based number of the attempt that just failed. With neither `onExitCodes`
 * nor `onReasons` every failure is retried; with either, a failure is retried when it matches
 * one of them. The delay before attempt n+1 is initialSeconds · factor^(n-1), capped at
 * maxSeconds, with no jitter: the decision stays a pure function of its inputs.
 */
export function nextAttempt(
  policy: RetryPolicy,
  attempt: number,
  failure: AttemptFailure,
  now: Date,
): RetryDecision {
  if (NEVER_RETRIED.has(failure.reason)) {
    return { retry: false, why: `${failure.reason} attempts are not retried` };
  }
  if (attempt >= policy.maxAttempts) {
    return {
      retry: false,
      why:
        policy.maxAttempts <= 1
          ? 'the retry policy allows a single attempt'
          : `attempt ${attempt} of ${policy.maxAttempts} failed; no attempts left`,
    };
  }
  const filtered = policy.onExitCodes !== undefined || policy.onReasons !== undefined;
  const codeMatches =
    failure.exitCode !== undefined && (policy.onExitCodes ?? []).includes(failure.exitCode);
  const reasonMatches = (policy.onReasons ?? []).includes(failure.reason);
  if (filtered && !codeMatches && !reasonMatches) {
    const what =
      failure.exitCode === undefined
        ? failure.reason
        : `${failure.reason} (exit code ${failure.exitCode})`;
    return { retry: false, why: `${what} is not among the failures the retry policy retries` };
  }
  const { initialSeconds, factor, maxSeconds } = policy.backoff;
  const delay = Math.min(maxSeconds, initialSeconds * Math.max(1, factor) ** (attempt - 1));
  return { retry: true, at: new Date(now.getTime() + Math.max(0, delay) * 1000) };
}
