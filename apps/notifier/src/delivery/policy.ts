/**
 * What happens after one delivery attempt: a pure decision over the attempt's outcome, the
 * delivery's attempt count and the endpoint's failing streak. No I/O, clock injected.
 */

/** Delays before attempts 1..8 (Standard Webhooks' usual schedule); after the 8th, give up. */
export const RETRY_SCHEDULE_MS = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  10 * 3600_000,
] as const;

export interface AttemptOutcome {
  /** HTTP status, or undefined when no response came (timeout, refused, blocked address). */
  statusCode?: number;
}

export interface DecisionInput {
  outcome: AttemptOutcome;
  /** Attempts made so far, including this one. */
  attempts: number;
  /** Start of the endpoint's current failing streak, before this attempt. */
  failingSince: Date | null;
  now: Date;
  /** Divides the retry schedule (tests compress it). */
  retryScale: number;
  disableAfterMs: number;
}

export type EndpointChange =
  | { kind: 'healthy' }
  | { kind: 'failing'; since: Date }
  | { kind: 'disable'; reason: 'gone' | 'failing'; since: Date };

export interface Decision {
  delivery:
    { status: 'succeeded' } | { status: 'failed' } | { status: 'pending'; nextAttemptAt: Date };
  endpoint: EndpointChange;
}

export const isSuccess = (outcome: AttemptOutcome): boolean =>
  outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300;

export function decideAfterAttempt(input: DecisionInput): Decision {
  const { outcome, attempts, now } = input;
  if (isSuccess(outcome))
    return { delivery: { status: 'succeeded' }, endpoint: { kind: 'healthy' } };
  const since = input.failingSince ?? now;
  // 410 Gone: the receiver says the endpoint no longer exists; stop at once.
  if (outcome.statusCode === 410) {
    return { delivery: { status: 'failed' }, endpoint: { kind: 'disable', reason: 'gone', since } };
  }
  const endpoint: EndpointChange =
    now.getTime() - since.getTime() > input.disableAfterMs
      ? { kind: 'disable', reason: 'failing', since }
      : { kind: 'failing', since };
  const delay = RETRY_SCHEDULE_MS[attempts];
  if (delay === undefined || endpoint.kind === 'disable')
    return { delivery: { status: 'failed' }, endpoint };
  return {
    delivery: {
      status: 'pending',
      nextAttemptAt: new Date(now.getTime() + delay / input.retryScale),
    },
    endpoint,
  };
}
