import { describe, expect, it } from '@jest/globals';

import { nextAttempt, type AttemptFailure, type RetryPolicy } from './retry.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const backoff = { initialSeconds: 10, factor: 2, maxSeconds: 60 };
const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({ maxAttempts: 5, backoff, ...p });

describe('nextAttempt', () => {
  it.each<[string, RetryPolicy, number, AttemptFailure, number]>([
    ['first retry waits initialSeconds', policy(), 1, { reason: 'Error', exitCode: 1 }, 10],
    ['second retry doubles', policy(), 2, { reason: 'Error', exitCode: 1 }, 20],
    ['third retry doubles again', policy(), 3, { reason: 'Error', exitCode: 1 }, 40],
    ['capped at maxSeconds', policy(), 4, { reason: 'Error', exitCode: 1 }, 60],
    [
      'matching exit code',
      policy({ onExitCodes: [137, 143] }),
      1,
      { reason: 'Error', exitCode: 143 },
      10,
    ],
    [
      'matching reason',
      policy({ onReasons: ['OOMKilled', 'Evicted'] }),
      2,
      { reason: 'Evicted' },
      20,
    ],
    [
      'either filter may match',
      policy({ onExitCodes: [3], onReasons: ['Lost'] }),
      1,
      { reason: 'Lost' },
      10,
    ],
    [
      'factor 1 is a constant delay',
      policy({ backoff: { initialSeconds: 30, factor: 1, maxSeconds: 600 } }),
      4,
      { reason: 'Error', exitCode: 1 },
      30,
    ],
  ])('retries: %s', (_name, p, attempt, failure, delaySeconds) => {
    expect(nextAttempt(p, attempt, failure, NOW)).toEqual({
      retry: true,
      at: new Date(NOW.getTime() + delaySeconds * 1000),
    });
  });

  it.each<[string, RetryPolicy, number, AttemptFailure, RegExp]>([
    [
      'single attempt policy',
      policy({ maxAttempts: 1 }),
      1,
      { reason: 'Error', exitCode: 1 },
      /single attempt/,
    ],
    [
      'attempts exhausted',
      policy({ maxAttempts: 3 }),
      3,
      { reason: 'OOMKilled' },
      /attempt 3 of 3/,
    ],
    [
      'exit code not listed',
      policy({ onExitCodes: [137] }),
      1,
      { reason: 'Error', exitCode: 1 },
      /Error \(exit code 1\) is not among/,
    ],
    [
      'reason not listed',
      policy({ onReasons: ['Evicted'] }),
      1,
      { reason: 'OOMKilled' },
      /OOMKilled is not among/,
    ],
    [
      'reason filter alone does not match on exit code',
      policy({ onReasons: ['Lost'] }),
      1,
      { reason: 'Error', exitCode: 137 },
      /not among/,
    ],
    ['cancelled attempts', policy(), 1, { reason: 'Cancelled' }, /not retried/],
  ])('does not retry: %s', (_name, p, attempt, failure, why) => {
    const d = nextAttempt(p, attempt, failure, NOW);
    expect(d).toEqual({ retry: false, why: expect.stringMatching(why) });
  });
});
