/**
 * Restart policy of the supervisor, as docker compose's `restart: unless-stopped` with
 * Kubernetes' CrashLoopBackOff timing: every exit the launcher did not ask for is restarted,
 * after a delay that doubles with each consecutive crash and is forgotten once the process
 * has stayed up for `resetAfterMs` (so a crash a day later restarts at once, not after 30 s).
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Uptime after which a process counts as healthy again and its crash count resets. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  resetAfterMs: 60_000,
};

/** Consecutive crashes including the one that just happened, given how long the process ran. */
export function nextCrashCount(previous: number, uptimeMs: number, policy: BackoffPolicy): number {
  return uptimeMs >= policy.resetAfterMs ? 1 : previous + 1;
}

/** Delay before restarting after the `crashes`-th consecutive crash (1-based). */
export function restartDelay(crashes: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, crashes - 1);
  // Cap the exponent too: factor ** 1000 is Infinity, which is fine, but NaN-free is nicer.
  const raw = policy.initialMs * policy.factor ** Math.min(exponent, 64);
  return Math.min(policy.maxMs, Math.round(raw));
}
