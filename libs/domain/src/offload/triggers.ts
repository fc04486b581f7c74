/**
 * When a pending, offloadable job goes to RunPod (the RunPod controller): at once when
 * forced (`runpod.io/offload: "true"`, roam `offload: required`); otherwise when it has been
 * pending longer than `maxPendingMs`, or when more jobs are pending than `pendingThreshold`.
 */
export interface PendingCandidate {
  key: string;
  forced: boolean;
  pendingSince: Date;
}

export interface TriggerPolicy {
  maxPendingMs: number;
  /** the RunPod controller `--pending-job-threshold`: offload once more than this many are pending. */
  pendingThreshold: number;
}

export interface Trigger {
  key: string;
  why: string;
}

/** The candidates to offload now, oldest first, each with its reason. */
export function offloadTriggers(
  candidates: readonly PendingCandidate[],
  policy: TriggerPolicy,
  now: Date,
): Trigger[] {
  const crowded = candidates.length > policy.pendingThreshold;
  return [...candidates]
    .sort(
      (a, b) => a.pendingSince.getTime() - b.pendingSince.getTime() || a.key.localeCompare(b.key),
    )
    .flatMap((c): Trigger[] => {
      const waited = now.getTime() - c.pendingSince.getTime();
      if (c.forced) return [{ key: c.key, why: 'offload requested' }];
      if (waited >= policy.maxPendingMs)
        return [
          {
            key: c.key,
            why: `pending ${Math.round(waited / 1000)} s (max-pending-time ${policy.maxPendingMs / 1000} s)`,
          },
        ];
      if (crowded)
        return [
          {
            key: c.key,
            why: `${candidates.length} jobs pending (threshold ${policy.pendingThreshold})`,
          },
        ];
      return [];
    });
}

/** Cost of a run in micro-dollars: price per hour × runtime, rounded up to the micro-dollar. */
export function costMicros(pricePerHourMicros: bigint, startedAt: Date, endedAt: Date): bigint {
  const ms = BigInt(Math.max(0, endedAt.getTime() - startedAt.getTime()));
  return (pricePerHourMicros * ms + 3_600_000n - 1n) / 3_600_000n;
}
