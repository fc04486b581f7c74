import { describe, expect, it } from '@jest/globals';

import { DEFAULT_BACKOFF, nextCrashCount, restartDelay, type BackoffPolicy } from './backoff.js';

describe('restartDelay', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [6, 16000],
    [7, 30000],
    [50, 30000],
    [5000, 30000],
  ])('after %i consecutive crashes waits %i ms', (crashes, expected) => {
    expect(restartDelay(crashes, DEFAULT_BACKOFF)).toBe(expected);
  });

  it('treats a zero crash count as the first crash', () => {
    expect(restartDelay(0, DEFAULT_BACKOFF)).toBe(500);
  });

  it('honours a custom factor and cap', () => {
    const policy: BackoffPolicy = { initialMs: 10, maxMs: 100, factor: 3, resetAfterMs: 1000 };
    expect([1, 2, 3, 4].map((n) => restartDelay(n, policy))).toEqual([10, 30, 90, 100]);
  });
});

describe('nextCrashCount', () => {
  it('counts consecutive crashes of a process that died quickly', () => {
    expect(nextCrashCount(0, 10, DEFAULT_BACKOFF)).toBe(1);
    expect(nextCrashCount(3, 10, DEFAULT_BACKOFF)).toBe(4);
  });

  it('starts over once the process stayed up for resetAfterMs', () => {
    expect(nextCrashCount(6, DEFAULT_BACKOFF.resetAfterMs, DEFAULT_BACKOFF)).toBe(1);
    expect(nextCrashCount(6, DEFAULT_BACKOFF.resetAfterMs - 1, DEFAULT_BACKOFF)).toBe(7);
  });
});
