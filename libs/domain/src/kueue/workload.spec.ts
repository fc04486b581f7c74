import { describe, expect, it } from '@jest/globals';

import { type JobState, SUBMITTED } from '../scheduling/job-state.js';
import {
  answerCheck,
  awaitsCheck,
  kueueEvent,
  kueueWaitReason,
  type KueueWorkload,
  type WorkloadCheck,
  workloadVerdict,
} from './workload.js';

const wl = (...conditions: [string, string, string?, string?][]): KueueWorkload => ({
  status: {
    admission: { clusterQueue: 'roam-acme' },
    conditions: conditions.map(([type, status, reason, message]) => ({
      type,
      status,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    })),
  },
});

const QUEUED: JobState = { status: 'pending', phase: 'Queued', reason: 'WaitingForQuota' };
const RETRYING: JobState = { status: 'pending', phase: 'Queued', reason: 'RetryBackoff' };
const ADMITTED: JobState = { status: 'pending', phase: 'Admitted', reason: 'ContainerCreating' };
const now = new Date('2026-01-01T00:00:00Z');

describe('workloadVerdict', () => {
  it.each([
    [wl(['QuotaReserved', 'False', 'Pending', 'insufficient unused quota for cpu']), 'pending'],
    [wl(['QuotaReserved', 'True'], ['Admitted', 'True']), 'admitted'],
    [wl(['QuotaReserved', 'True']), 'pending'],
    [wl(['Evicted', 'True', 'Preempted', 'preempted by a higher priority workload']), 'evicted'],
    [wl(['Admitted', 'True'], ['Finished', 'True', 'Succeeded']), 'finished'],
    [{}, 'unseen'],
  ])('reads %j as %s', (workload, kind) => {
    expect(workloadVerdict(workload).kind).toBe(kind);
  });

  it("keeps Kueue's reason and message for a pending workload", () => {
    expect(
      workloadVerdict(wl(['QuotaReserved', 'False', 'Inadmissible', "LocalQueue q doesn't exist"])),
    ).toEqual({
      kind: 'pending',
      reason: 'Inadmissible',
      message: "LocalQueue q doesn't exist",
    });
  });
});

describe('kueueEvent', () => {
  const pending = workloadVerdict(wl(['QuotaReserved', 'False', 'Pending', 'no quota']));
  const admitted = workloadVerdict(wl(['QuotaReserved', 'True'], ['Admitted', 'True']));
  const evicted = workloadVerdict(wl(['Evicted', 'True', 'Preempted', 'preempted']));

  it('leaves the job as it is until Kueue has a verdict', () => {
    expect(kueueEvent(SUBMITTED, undefined, now)).toBeUndefined();
    expect(kueueEvent(RETRYING, workloadVerdict({}), now)).toBeUndefined();
  });

  it("admits when Kueue admits the Workload, with Kueue's reason while it waits", () => {
    expect(kueueEvent(SUBMITTED, pending, now)?.event).toMatchObject({
      type: 'queue',
      message: 'Kueue Pending: no quota',
    });
    expect(kueueEvent(QUEUED, pending, now)).toBeUndefined();
    expect(kueueEvent(QUEUED, admitted, now)).toEqual({
      event: { type: 'admit', message: 'admitted by Kueue in ClusterQueue roam-acme' },
      admittedAt: now,
    });
    expect(kueueEvent(ADMITTED, admitted, now)).toBeUndefined();
  });

  it('leaves a job as it is while its Workload, quota reserved, waits only for admission checks', () => {
    const checking = workloadVerdict(wl(['QuotaReserved', 'True']));
    expect(checking).toMatchObject({ kind: 'pending', reason: 'QuotaReserved' });
    expect(kueueEvent(SUBMITTED, checking, now)).toBeUndefined();
    expect(kueueEvent(RETRYING, checking, now)).toBeUndefined();
    expect(kueueEvent(QUEUED, checking, now)).toBeUndefined();
  });

  it("names roam's wait reason: short of pods is the concurrency limit, else quota", () => {
    const short = (resource: string) =>
      workloadVerdict(
        wl([
          'QuotaReserved',
          'False',
          'Pending',
          `couldn't assign flavors to pod set main: insufficient unused quota for ${resource} in flavor f, 1 more needed`,
        ]),
      );
    expect(kueueEvent(SUBMITTED, short('pods'), now)?.event).toMatchObject({
      type: 'queue',
      reason: 'ConcurrencyLimit',
    });
    expect(kueueEvent(SUBMITTED, short('cpu'), now)?.event).toMatchObject({
      reason: 'WaitingForQuota',
    });
    expect(kueueWaitReason('insufficient unused quota for pods in flavor f')).toBe(
      'ConcurrencyLimit',
    );
  });

  it('calls a workload larger than its ClusterQueue could ever hold Unschedulable', () => {
    const message =
      "couldn't assign flavors to pod set worker: insufficient quota for pods in flavor f, request > maximum capacity (3 > 2)";
    expect(kueueWaitReason(message)).toBe('Unschedulable');
    expect(
      kueueEvent(
        SUBMITTED,
        workloadVerdict(wl(['QuotaReserved', 'False', 'Pending', message])),
        now,
      )?.event,
    ).toMatchObject({
      type: 'queue',
      reason: 'Unschedulable',
      message: `Kueue Pending: ${message}`,
    });
  });

  it('admits a job whose Workload finished before roam saw it admitted', () => {
    const finished = workloadVerdict(wl(['Admitted', 'True'], ['Finished', 'True', 'Succeeded']));
    expect(kueueEvent(QUEUED, finished, now)?.event.type).toBe('admit');
    expect(kueueEvent(SUBMITTED, finished, now)?.admittedAt).toBe(now);
  });

  it.each([
    // state before, eviction reason, the ledger event
    [ADMITTED, 'Preempted', 'preempt'],
    [{ status: 'running', phase: 'Running' }, 'Preempted', 'preempt'],
    // not a preemption: back in the queue in the same attempt, as Kueue readmits the same Job
    [ADMITTED, 'PodsReadyTimeout', 'queue'],
    [{ status: 'running', phase: 'Running' }, 'InactiveWorkload', 'queue'],
    [ADMITTED, 'AdmissionCheck', 'queue'],
  ] as [JobState, string, string][])('%j evicted for %s: %s', (state, reason, type) => {
    const verdict = workloadVerdict(
      wl(['Evicted', 'True', reason, 'Preempted to accommodate a workload (UID: u)']),
    );
    expect(kueueEvent(state, verdict, now)?.event.type).toBe(type);
  });

  it("preempts an admitted or running job Kueue preempted, with Kueue's message", () => {
    const preempted = workloadVerdict(
      wl(
        [
          'Evicted',
          'True',
          'Preempted',
          'Preempted to accommodate a workload (UID: u) due to reclamation within the cohort',
        ],
        ['Preempted', 'True', 'InCohortReclamation', 'Preempted to accommodate a workload'],
      ),
    );
    expect(kueueEvent({ status: 'running', phase: 'Running' }, preempted, now)).toEqual({
      event: {
        type: 'preempt',
        message:
          'Kueue Preempted: Preempted to accommodate a workload (UID: u) due to reclamation within the cohort',
      },
      admittedAt: null,
      startedAt: null,
      preempted: true,
    });
    // Evicted before roam saw it admitted: it waits, as Kueue readmits the same Job.
    expect(kueueEvent(SUBMITTED, preempted, now)?.event.type).toBe('queue');
  });

  it('puts a running job Kueue evicted for another reason back in the queue, same attempt', () => {
    const evictedOther = workloadVerdict(
      wl(['Evicted', 'True', 'PodsReadyTimeout', 'Exceeded the PodsReady timeout']),
    );
    expect(kueueEvent({ status: 'running', phase: 'Running' }, evictedOther, now)).toEqual({
      event: {
        type: 'queue',
        reason: 'WaitingForQuota',
        message:
          'Kueue PodsReadyTimeout: Exceeded the PodsReady timeout; waiting to be admitted again',
      },
      admittedAt: null,
      startedAt: null,
    });
  });

  it('leaves running, offloaded and finished jobs to the reconciler otherwise', () => {
    const running = { status: 'running', phase: 'Running' } as const;
    expect(kueueEvent(running, admitted, now)).toBeUndefined();
    expect(kueueEvent({ ...running, reason: 'Offloaded' }, evicted, now)).toBeUndefined();
    expect(kueueEvent(ADMITTED, { kind: 'finished', clusterQueue: 'q' }, now)).toBeUndefined();
  });
});

describe('awaitsCheck and answerCheck', () => {
  const checked = (reserved: boolean, ...checks: WorkloadCheck[]): KueueWorkload => ({
    spec: { podSets: [{ name: 'main' }] },
    status: {
      conditions: [{ type: 'QuotaReserved', status: reserved ? 'True' : 'False' }],
      admissionChecks: checks,
    },
  });

  it.each([
    [checked(true, { name: 'roam-inputs', state: 'Pending' }), true],
    [checked(false, { name: 'roam-inputs', state: 'Pending' }), false],
    [checked(true, { name: 'roam-inputs', state: 'Ready' }), false],
    [checked(true, { name: 'roam-inputs', state: 'Retry' }), false],
    [checked(true, { name: 'other', state: 'Pending' }), false],
    [checked(true), false],
  ])('%j awaits roam-inputs: %s', (w, expected) => {
    expect(awaitsCheck(w, 'roam-inputs')).toBe(expected);
  });

  it('answers Ready with the annotations for every pod set, leaving other checks alone', () => {
    const other: WorkloadCheck = { name: 'provisioning', state: 'Pending', message: '' };
    const w = checked(true, { name: 'roam-inputs', state: 'Pending' }, other);
    const now = new Date('2026-01-01T00:00:00Z');
    expect(
      answerCheck(w, 'roam-inputs', { state: 'Ready', message: 'minted' }, { a: 'b' }, now),
    ).toEqual([
      {
        name: 'roam-inputs',
        state: 'Ready',
        message: 'minted',
        lastTransitionTime: now.toISOString(),
        podSetUpdates: [{ name: 'main', annotations: { a: 'b' } }],
      },
      other,
    ]);
  });

  it('answers Rejected without pod set updates', () => {
    const w = checked(true, { name: 'roam-inputs', state: 'Pending' });
    const [answer] = answerCheck(
      w,
      'roam-inputs',
      { state: 'Rejected', message: 'gone' },
      {
        a: 'b',
      },
    );
    expect(answer).toMatchObject({ state: 'Rejected', message: 'gone' });
    expect(answer).not.toHaveProperty('podSetUpdates');
  });
});
