import { describe, expect, it } from '@jest/globals';

import { phaseLabel, SUBMITTED, transition, type JobEvent, type JobState } from './job-state.js';

const queued: JobState = { status: 'pending', phase: 'Queued', reason: 'WaitingForQuota' };
const admitted: JobState = { status: 'pending', phase: 'Admitted', reason: 'ContainerCreating' };
const running: JobState = { status: 'running', phase: 'Running' };
const offloaded: JobState = { status: 'running', phase: 'Running', reason: 'Offloaded' };
const succeeded: JobState = { status: 'succeeded', phase: 'Succeeded' };
const oom: JobState = { status: 'failed', phase: 'Failed', reason: 'OOMKilled' };
const cancelled: JobState = { status: 'cancelled', phase: 'Cancelled' };

describe('transition', () => {
  it.each<[JobState, JobEvent, string]>([
    [SUBMITTED, { type: 'queue', reason: 'WaitingForQuota' }, 'Queued/WaitingForQuota'],
    [SUBMITTED, { type: 'admit' }, 'Admitted/ContainerCreating'],
    [queued, { type: 'queue', reason: 'InsufficientCapacity' }, 'Queued/InsufficientCapacity'],
    [queued, { type: 'admit' }, 'Admitted/ContainerCreating'],
    [queued, { type: 'offload' }, 'Running/Offloaded'],
    [queued, { type: 'cancel' }, 'Cancelled'],
    [queued, { type: 'retry' }, 'Queued/RetryBackoff'],
    [admitted, { type: 'start' }, 'Running'],
    [admitted, { type: 'succeed' }, 'Succeeded'],
    [admitted, { type: 'fail', reason: 'ImagePullBackOff' }, 'Failed/ImagePullBackOff'],
    [admitted, { type: 'queue', reason: 'InsufficientCapacity' }, 'Queued/InsufficientCapacity'],
    [running, { type: 'succeed' }, 'Succeeded'],
    [running, { type: 'fail', reason: 'OOMKilled' }, 'Failed/OOMKilled'],
    [running, { type: 'retry' }, 'Queued/RetryBackoff'],
    [running, { type: 'queue', reason: 'WaitingForQuota' }, 'Queued/WaitingForQuota'],
    [running, { type: 'cancel' }, 'Cancelled'],
    [running, { type: 'requeue', reason: 'CapacityLost' }, 'Queued/CapacityLost'],
    [admitted, { type: 'requeue', reason: 'CapacityLost' }, 'Queued/CapacityLost'],
    [queued, { type: 'queue', reason: 'CapacityUnavailable' }, 'Queued/CapacityUnavailable'],
    [offloaded, { type: 'fail', reason: 'Lost' }, 'Failed/Lost'],
    [oom, { type: 'rerun' }, 'Submitted'],
    [admitted, { type: 'preempt' }, 'Queued/Preempted'],
    [running, { type: 'preempt' }, 'Queued/Preempted'],
  ])('%o + %o → %s', (from, event, to) => {
    const r = transition(from, event);
    expect(r.ok && phaseLabel(r.state)).toBe(to);
    expect(r.ok && r.changed).toBe(true);
  });

  it.each<[JobState, JobEvent]>([
    // Only work that holds quota can be preempted.
    [queued, { type: 'preempt' }],
    [SUBMITTED, { type: 'preempt' }],
    [SUBMITTED, { type: 'start' }],
    [SUBMITTED, { type: 'succeed' }],
    [queued, { type: 'succeed' }],
    [running, { type: 'admit' }],
    [succeeded, { type: 'fail', reason: 'Error' }],
    [succeeded, { type: 'start' }],
    [oom, { type: 'retry' }],
    [oom, { type: 'succeed' }],
    [cancelled, { type: 'admit' }],
    [succeeded, { type: 'rerun' }],
    [cancelled, { type: 'rerun' }],
    [running, { type: 'rerun' }],
    [queued, { type: 'rerun' }],
    // A requeue ends an attempt: a job with none on the cluster has nothing to requeue.
    [queued, { type: 'requeue', reason: 'CapacityLost' }],
    [SUBMITTED, { type: 'requeue', reason: 'CapacityLost' }],
    [succeeded, { type: 'requeue', reason: 'CapacityLost' }],
  ])('rejects %o + %o', (from, event) => {
    const r = transition(from, event);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/never changes|cannot/) });
  });

  it.each<[JobState, JobEvent]>([
    [succeeded, { type: 'cancel' }],
    [oom, { type: 'cancel' }],
    [cancelled, { type: 'cancel' }],
    [succeeded, { type: 'succeed' }],
    [oom, { type: 'fail', reason: 'OOMKilled' }],
    [queued, { type: 'queue', reason: 'WaitingForQuota' }],
    [admitted, { type: 'admit' }],
    [running, { type: 'start' }],
    [offloaded, { type: 'start' }],
    [offloaded, { type: 'offload' }],
  ])('treats %o + %o as a no-op', (from, event) => {
    const r = transition(from, event);
    expect(r).toEqual({ ok: true, changed: false, state: from });
  });

  it('keeps a finished job unchanged, message included', () => {
    const done: JobState = { ...succeeded, message: 'done' };
    expect(transition(done, { type: 'cancel', message: 'user asked' })).toEqual({
      ok: true,
      state: done,
      changed: false,
    });
  });

  it('refreshes the message of a duplicate without a change', () => {
    expect(
      transition(queued, { type: 'queue', reason: 'WaitingForQuota', message: 'now 3rd' }),
    ).toEqual({ ok: true, state: { ...queued, message: 'now 3rd' }, changed: false });
  });

  it('derives status from phase', () => {
    const r = transition(admitted, { type: 'start' });
    expect(r.ok && r.state.status).toBe('running');
    const f = transition(running, {
      type: 'fail',
      reason: 'DeadlineExceeded',
      message: 'took too long',
    });
    expect(f).toEqual({
      ok: true,
      changed: true,
      state: {
        status: 'failed',
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'took too long',
      },
    });
  });
});

describe('transition: a JobSet restart', () => {
  const restart: JobEvent = { type: 'restart', restarts: 1, message: 'restart 1' };

  it.each<[JobState]>([
    [{ status: 'running', phase: 'Running', message: 'the pod is running' }],
    [{ status: 'pending', phase: 'Admitted', reason: 'ContainerCreating' }],
  ])('is a step that keeps %j as it is, but for the message', (current) => {
    const result = transition(current, restart);
    expect(result).toEqual({
      ok: true,
      changed: true,
      state: { ...current, message: 'restart 1' },
    });
  });

  it.each<[JobState]>([
    [{ status: 'pending', phase: 'Queued', reason: 'WaitingForQuota' }],
    [{ status: 'failed', phase: 'Failed', reason: 'Error' }],
    [{ status: 'pending', phase: 'Submitted' }],
  ])('is refused for %j: only a JobSet that holds its pods restarts', (current) => {
    expect(transition(current, restart).ok).toBe(false);
  });
});
