import { describe, expect, it } from '@jest/globals';

import { transition, type JobState } from './job-state.js';
import {
  jobStateOf,
  legalJobStates,
  parseJobState,
  type JobStateColumns,
} from './job-state-table.js';

describe('parseJobState', () => {
  it.each<[JobStateColumns, JobState]>([
    [
      { status: 'pending', phase: 'Submitted', reason: null },
      { status: 'pending', phase: 'Submitted' },
    ],
    [
      { status: 'pending', phase: 'Queued', reason: 'RetryBackoff', message: 'soon' },
      { status: 'pending', phase: 'Queued', reason: 'RetryBackoff', message: 'soon' },
    ],
    [
      { status: 'pending', phase: 'Admitted', reason: 'ContainerCreating', message: null },
      { status: 'pending', phase: 'Admitted', reason: 'ContainerCreating' },
    ],
    [
      { status: 'running', phase: 'Running' },
      { status: 'running', phase: 'Running' },
    ],
    [
      { status: 'running', phase: 'Running', reason: 'Offloaded' },
      { status: 'running', phase: 'Running', reason: 'Offloaded' },
    ],
    [
      { status: 'succeeded', phase: 'Succeeded' },
      { status: 'succeeded', phase: 'Succeeded' },
    ],
    [
      { status: 'failed', phase: 'Failed', reason: 'OOMKilled' },
      { status: 'failed', phase: 'Failed', reason: 'OOMKilled' },
    ],
    [
      { status: 'cancelled', phase: 'Cancelled', reason: 'CancelledByUser' },
      { status: 'cancelled', phase: 'Cancelled', reason: 'CancelledByUser' },
    ],
  ])('%o → %o', (row, state) => {
    expect(parseJobState(row)).toEqual({ ok: true, state });
  });

  it.each<[JobStateColumns, RegExp]>([
    [{ status: 'pending', phase: 'Waiting' }, /unknown job phase "Waiting"/],
    [{ status: 'pending', phase: 'constructor' }, /unknown job phase/],
    [
      { status: 'running', phase: 'Queued', reason: 'WaitingForQuota' },
      /has status pending, not "running"/,
    ],
    [{ status: 'pending', phase: 'Queued' }, /needs a reason/],
    [{ status: 'failed', phase: 'Failed', reason: null }, /needs a reason/],
    [
      { status: 'failed', phase: 'Failed', reason: 'Tired' },
      /"Tired" is not a reason of job phase Failed \(one of Error/,
    ],
    [{ status: 'succeeded', phase: 'Succeeded', reason: 'Fast' }, /it has none/],
    [
      { status: 'pending', phase: 'Queued', reason: 'OOMKilled' },
      /not a reason of job phase Queued/,
    ],
  ])('rejects %o', (row, error) => {
    const parsed = parseJobState(row);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(error);
  });

  it('throws from jobStateOf, naming the row', () => {
    expect(() => jobStateOf({ status: 'running', phase: 'Nope' })).toThrow(
      /invalid job state running\/Nope\/-: unknown job phase/,
    );
  });

  it('round-trips every legal state', () => {
    const states = legalJobStates();
    expect(states).toHaveLength(28);
    for (const state of states) expect(parseJobState(state)).toEqual({ ok: true, state });
  });
});

describe('cancel reasons', () => {
  const running: JobState = { status: 'running', phase: 'Running' };

  it('a cancel through the API says so', () => {
    expect(transition(running, { type: 'cancel', reason: 'CancelledByUser' })).toEqual({
      ok: true,
      changed: true,
      state: { status: 'cancelled', phase: 'Cancelled', reason: 'CancelledByUser' },
    });
  });

  it('a second cancel of a cancelled job is a no-op, whatever its reason', () => {
    const cancelled: JobState = {
      status: 'cancelled',
      phase: 'Cancelled',
      reason: 'CancelledByUser',
    };
    expect(transition(cancelled, { type: 'cancel' })).toEqual({
      ok: true,
      changed: false,
      state: cancelled,
    });
  });
});
