import { describe, expect, it } from '@jest/globals';

import type { KubeJob, KubePod } from './kubernetes.js';
import {
  type GangSpec,
  gangSizeOf,
  podsReady,
  type PodsReadyVerdict,
  podsUp,
  requeueAt,
} from './pods-ready.js';
import { planReconcile, type ReconcileRecord } from './reconcile.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

const pod = (name: string, phase: string, deleting = false): KubePod => ({
  metadata: {
    name,
    namespace: 'roam-a',
    creationTimestamp: at(1),
    ...(deleting ? { deletionTimestamp: at(50) } : {}),
  },
  spec: { nodeName: 'node-1' },
  status: {
    phase,
    containerStatuses: [
      {
        name: 'main',
        state:
          phase === 'Running'
            ? { running: { startedAt: at(5) } }
            : { waiting: { reason: 'ContainerCreating' } },
      },
    ],
  },
});

describe('gangSizeOf', () => {
  it.each<[string, GangSpec, number]>([
    ['a single-pod job', {}, 1],
    ['an indexed job: its parallelism', { parallelism: 4 }, 4],
    ['completions alone run all at once', { completions: 3 }, 3],
    ['parallelism above completions is capped', { parallelism: 8, completions: 2 }, 2],
    ['completions in waves of parallelism', { parallelism: 2, completions: 10 }, 2],
    [
      'a JobSet: replicas × parallelism, summed',
      { replicated_jobs: [{ replicas: 1 }, { replicas: 3, parallelism: 2 }] },
      7,
    ],
  ])('%s', (_, spec, size) => expect(gangSizeOf(spec)).toBe(size));
});

describe('podsUp', () => {
  it('counts running and succeeded pods, not pending, failed or deleted ones', () => {
    expect(
      podsUp([
        pod('a', 'Running'),
        pod('b', 'Succeeded'),
        pod('c', 'Pending'),
        pod('d', 'Failed'),
        pod('e', 'Running', true),
      ]),
    ).toBe(2);
  });
});

describe('podsReady', () => {
  const base = { admittedAt: at(0), timeoutSeconds: 60, gangSize: 3 };
  it.each<
    [
      string,
      Partial<Parameters<typeof podsReady>[0]> & { now: Date; up: number },
      PodsReadyVerdict['kind'],
    ]
  >([
    ['every pod running', { now: at(10), up: 3 }, 'ready'],
    ['a single pod is never timed out', { now: at(1000), up: 0, gangSize: 1 }, 'ready'],
    ['some missing before the timeout', { now: at(59), up: 2 }, 'waiting'],
    ['some missing at the timeout', { now: at(60), up: 2 }, 'timedOut'],
    ['none running after the timeout', { now: at(600), up: 0 }, 'timedOut'],
    ['all running late is still ready', { now: at(600), up: 3 }, 'ready'],
  ])('%s', (_, input, kind) => expect(podsReady({ ...base, ...input }).kind).toBe(kind));

  it('says when to look again, and why it gave up', () => {
    expect(podsReady({ ...base, now: at(10), up: 1 })).toEqual({
      kind: 'waiting',
      deadline: at(60),
    });
    const verdict = podsReady({ ...base, now: at(61), up: 1 });
    expect(verdict.kind === 'timedOut' && verdict.message).toContain('only 1 of 3 pods');
  });
});

describe('requeueAt', () => {
  const policy = { maxAttempts: 1, backoff: { initialSeconds: 10, factor: 2, maxSeconds: 25 } };
  it.each([
    [1, 10],
    [2, 20],
    [3, 25],
  ])('attempt %i waits %is', (attempt, seconds) =>
    expect(requeueAt(policy, attempt, at(0))).toEqual(at(seconds)),
  );
});

describe('planReconcile for a gang', () => {
  const record = (o: Partial<ReconcileRecord> = {}): ReconcileRecord => ({
    id: 'j',
    tenantId: 'a',
    name: 'job',
    status: 'pending',
    phase: 'Admitted',
    reason: 'ContainerCreating',
    message: null,
    attempt: 1,
    requeues: 0,
    seq: 2,
    spec: { ttl_seconds_after_finished: 3600, parallelism: 2, wait_for_pods_ready_seconds: 30 },
    placement: { namespace: 'roam-a', job: 'roam-j-1' },
    admittedAt: at(0),
    startedAt: null,
    finishedAt: null,
    cleanupAt: null,
    storedAt: null,
    archivedAttempts: [],
    changedAt: at(0),
    ...o,
  });
  const job: KubeJob = { metadata: { name: 'roam-j-1', namespace: 'roam-a' }, spec: {} };
  const plan = (now: Date, pods: KubePod[], o: Partial<ReconcileRecord> = {}) =>
    planReconcile(
      record(o),
      { kubeJob: job, pods, synced: true },
      { now, lostGraceMs: 30_000, storage: false, maxRequeues: 3, waitForPodsReadySeconds: 300 },
    );

  it('is not running while one of its pods is not', () => {
    const result = plan(at(10), [pod('a', 'Running'), pod('b', 'Pending')]);
    expect(result.steps).toEqual([]);
    expect(result.recheckAt).toEqual(at(30));
  });

  it('runs once all of its pods do', () => {
    const result = plan(at(10), [pod('a', 'Running'), pod('b', 'Running')]);
    expect(result.steps.map((s) => s.event)).toEqual(['started']);
  });

  it('is requeued with backoff, its attempt taken down, once the timeout passes', () => {
    const result = plan(at(31), [pod('a', 'Running'), pod('b', 'Pending')]);
    expect(result.steps.map((s) => `${s.event} → ${s.state.phase}/${s.state.reason}`)).toEqual([
      'retried → Queued/RetryBackoff',
    ]);
    expect(result.steps[0]!.state.message).toContain('wait_for_pods_ready_seconds');
    // Default backoff (10s for attempt 1): the retry policy's, with no attempt consumed.
    expect(result.set).toMatchObject({ attempt: 2, retryAt: at(41), admittedAt: null });
    expect(result.deleteAttempts).toEqual([1]);
    expect(result.deleteKubeJob).toBe(false);
  });

  it('takes the configured default when the spec names no timeout', () => {
    const spec = { ttl_seconds_after_finished: 3600, parallelism: 2 };
    expect(plan(at(299), [pod('a', 'Pending')], { spec }).steps).toEqual([]);
    expect(plan(at(300), [pod('a', 'Pending')], { spec }).steps).toHaveLength(1);
  });

  it('leaves a single-pod job alone however long it waits', () => {
    const spec = { ttl_seconds_after_finished: 3600 };
    expect(plan(at(10_000), [pod('a', 'Pending')], { spec }).steps).toEqual([]);
  });
});
