import { describe, expect, it } from '@jest/globals';

import { decideAfterAttempt, type DecisionInput, RETRY_SCHEDULE_MS } from './policy.js';

const now = new Date('2026-11-22T12:00:00Z');
const base: DecisionInput = {
  outcome: { statusCode: 500 },
  attempts: 1,
  failingSince: null,
  now,
  retryScale: 1,
  disableAfterMs: 5 * 24 * 3600_000,
};
const at = (ms: number) => new Date(now.getTime() + ms);

describe('decideAfterAttempt', () => {
  it('marks a 2xx delivered and the endpoint healthy', () => {
    for (const statusCode of [200, 204, 299]) {
      expect(decideAfterAttempt({ ...base, outcome: { statusCode }, failingSince: now })).toEqual({
        delivery: { status: 'succeeded' },
        endpoint: { kind: 'healthy' },
      });
    }
  });

  it.each([
    [1, 5_000],
    [2, 5 * 60_000],
    [3, 30 * 60_000],
    [4, 2 * 3600_000],
    [5, 5 * 3600_000],
    [6, 10 * 3600_000],
    [7, 10 * 3600_000],
  ])('after failed attempt %i retries in %i ms', (attempts, delay) => {
    expect(decideAfterAttempt({ ...base, attempts }).delivery).toEqual({
      status: 'pending',
      nextAttemptAt: at(delay),
    });
  });

  it('gives up after the eighth attempt', () => {
    expect(RETRY_SCHEDULE_MS).toHaveLength(8);
    expect(decideAfterAttempt({ ...base, attempts: 8 }).delivery).toEqual({ status: 'failed' });
  });

  it('treats 3xx (redirects are not followed) and no response as failures', () => {
    expect(decideAfterAttempt({ ...base, outcome: { statusCode: 302 } }).delivery.status).toBe(
      'pending',
    );
    expect(decideAfterAttempt({ ...base, outcome: {} }).delivery.status).toBe('pending');
  });

  it('compresses the schedule by the retry scale', () => {
    expect(decideAfterAttempt({ ...base, attempts: 2, retryScale: 1000 }).delivery).toEqual({
      status: 'pending',
      nextAttemptAt: at(300),
    });
  });

  it('starts a failing streak, keeps its start, and disables past the limit', () => {
    expect(decideAfterAttempt(base).endpoint).toEqual({ kind: 'failing', since: now });
    const earlier = new Date(now.getTime() - 3600_000);
    expect(decideAfterAttempt({ ...base, failingSince: earlier }).endpoint).toEqual({
      kind: 'failing',
      since: earlier,
    });
    const longAgo = new Date(now.getTime() - base.disableAfterMs - 1);
    expect(decideAfterAttempt({ ...base, failingSince: longAgo })).toEqual({
      delivery: { status: 'failed' },
      endpoint: { kind: 'disable', reason: 'failing', since: longAgo },
    });
  });

  it('disables at once on 410 Gone', () => {
    expect(decideAfterAttempt({ ...base, outcome: { statusCode: 410 } })).toEqual({
      delivery: { status: 'failed' },
      endpoint: { kind: 'disable', reason: 'gone', since: now },
    });
  });
});
