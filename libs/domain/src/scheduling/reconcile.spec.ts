import { describe, expect, it } from '@jest/globals';

import { phaseLabel } from './job-state.js';
import type { KubeContainerState, KubeJob, KubePod } from './kubernetes.js';
import {
  planReconcile,
  retryPolicyOf,
  type ReconcileObservation,
  type ReconcilePlan,
  type ReconcileRecord,
  type ReconcileSpec,
} from './reconcile.js';

const T0 = new Date('2030-01-01T00:00:00Z');
/** `s` seconds after T0. */
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const GRACE_MS = 30_000;
const NOW = at(100);

const PLACEMENT = { namespace: 'roam-a', job: 'roam-j-1', pod: 'roam-j-1-x', node: 'node-1' };
const retries = (
  max_attempts: number,
  extra: Partial<NonNullable<ReconcileSpec['retry_policy']>> = {},
): ReconcileSpec['retry_policy'] => ({
  max_attempts,
  backoff: { initial_seconds: 10, factor: 2, max_seconds: 600 },
  ...extra,
});

/*
 * Job rows as the reconciler loads them. `admitted` is the state the scheduler leaves a job in
 * once it confirmed the Kubernetes Job (placement recorded); the others follow from it.
 */
const admitted = (o: Partial<ReconcileRecord> = {}): ReconcileRecord => ({
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
  spec: { ttl_seconds_after_finished: 3600 },
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
const running = (o: Partial<ReconcileRecord> = {}) =>
  admitted({ status: 'running', phase: 'Running', reason: null, startedAt: at(5), ...o });
const queued = (o: Partial<ReconcileRecord> = {}) =>
  admitted({ phase: 'Queued', reason: 'WaitingForQuota', admittedAt: null, ...o });
const finished = (
  status: 'succeeded' | 'failed' | 'cancelled',
  o: Partial<ReconcileRecord> = {},
): ReconcileRecord =>
  running({
    status,
    phase: { succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' }[status],
    reason: status === 'failed' ? 'Error' : null,
    finishedAt: at(20),
    ...o,
  });

/* What the informers hold for the current attempt. */
const kubeJob = (condition?: { type: string; reason?: string; time?: number }): KubeJob => ({
  metadata: { name: 'roam-j-1', namespace: 'roam-a' },
  spec: { backoffLimit: 0 },
  status: condition
    ? {
        conditions: [
          {
            type: condition.type,
            status: 'True',
            ...(condition.reason ? { reason: condition.reason } : {}),
            lastTransitionTime: at(condition.time ?? 20),
          },
        ],
        ...(condition.type === 'Complete' ? { completionTime: at(condition.time ?? 20) } : {}),
      }
    : {},
});
const pod = (phase: string, state: KubeContainerState): KubePod => ({
  metadata: { name: 'roam-j-1-x', namespace: 'roam-a', creationTimestamp: at(1) },
  spec: { nodeName: 'node-1' },
  status: { phase, containerStatuses: [{ name: 'main', state }] },
});
const seen = (job: KubeJob | undefined, ...pods: KubePod[]): ReconcileObservation => ({
  kubeJob: job,
  pods,
  synced: true,
});
const exited = (exitCode: number, reason?: string): KubeContainerState => ({
  terminated: { exitCode, startedAt: at(5), finishedAt: at(19), ...(reason ? { reason } : {}) },
});

const obs = {
  creating: seen(kubeJob(), pod('Pending', { waiting: { reason: 'ContainerCreating' } })),
  running: seen(kubeJob(), pod('Running', { running: { startedAt: at(5) } })),
  completed: seen(kubeJob({ type: 'Complete' }), pod('Succeeded', exited(0))),
  /** Complete, but the pod is gone: no container start is known. */
  completedPodless: seen(kubeJob({ type: 'Complete' })),
  exited3: seen(
    kubeJob({ type: 'Failed', reason: 'BackoffLimitExceeded' }),
    pod('Failed', exited(3)),
  ),
  oomKilled: seen(
    kubeJob({ type: 'Failed', reason: 'BackoffLimitExceeded' }),
    pod('Failed', exited(137, 'OOMKilled')),
  ),
  backoffLimitPodless: seen(kubeJob({ type: 'Failed', reason: 'BackoffLimitExceeded' })),
  deadline: seen(kubeJob({ type: 'Failed', reason: 'DeadlineExceeded' })),
  pullBackOff: seen(kubeJob(), pod('Pending', { waiting: { reason: 'ImagePullBackOff' } })),
  gone: seen(undefined),
};

/** Without storage configured: nothing waits for it (the other cases are below). */
const plan = (record: ReconcileRecord, observation: ReconcileObservation, now = NOW) =>
  planReconcile(record, observation, {
    now,
    lostGraceMs: GRACE_MS,
    storage: false,
    maxRequeues: 3,
  });
/** The steps as `event → phase/reason`, the way the history reads. */
const stepsOf = (p: ReconcilePlan) => p.steps.map((s) => `${s.event} → ${phaseLabel(s.state)}`);
const NOTHING: ReconcilePlan = { steps: [], set: {}, deleteKubeJob: false };

describe('planReconcile: observations become events', () => {
  it.each<[string, ReconcileRecord, ReconcileObservation, string[], ReconcilePlan['set']]>([
    [
      'a pod still being created only records where the job runs',
      admitted(),
      obs.creating,
      [],
      { placement: PLACEMENT },
    ],
    [
      'a running pod starts the job at its container start',
      admitted(),
      obs.running,
      ['started → Running'],
      { placement: PLACEMENT, startedAt: at(5) },
    ],
    [
      'a running job seen running again gains no event',
      running(),
      obs.running,
      [],
      { placement: PLACEMENT },
    ],
    [
      'a completed Job succeeds a running job at its completion time',
      running(),
      obs.completed,
      ['succeeded → Succeeded'],
      { placement: PLACEMENT, finishedAt: at(20), exitCode: 0 },
    ],
    [
      'a short-lived pod that finished between observations is recorded as started first',
      admitted(),
      obs.completed,
      ['started → Running', 'succeeded → Succeeded'],
      { placement: PLACEMENT, startedAt: at(5), finishedAt: at(20), exitCode: 0 },
    ],
    [
      'a completed Job with no known container start succeeds without a start',
      admitted(),
      obs.completedPodless,
      ['succeeded → Succeeded'],
      { placement: { namespace: 'roam-a', job: 'roam-j-1' }, finishedAt: at(20), exitCode: 0 },
    ],
    [
      'a non-zero exit fails as Error with its exit code, not BackoffLimitExceeded',
      running(),
      obs.exited3,
      ['failed → Failed/Error'],
      { placement: PLACEMENT, finishedAt: at(20), exitCode: 3 },
    ],
    [
      'an out-of-memory kill keeps its own reason',
      running(),
      obs.oomKilled,
      ['failed → Failed/OOMKilled'],
      { placement: PLACEMENT, finishedAt: at(20), exitCode: 137 },
    ],
    [
      'BackoffLimitExceeded with no exit code to explain it stays as it is',
      running(),
      obs.backoffLimitPodless,
      ['failed → Failed/BackoffLimitExceeded'],
      { placement: { namespace: 'roam-a', job: 'roam-j-1' }, finishedAt: at(20), exitCode: null },
    ],
    [
      'a Job past its deadline fails as DeadlineExceeded',
      running(),
      obs.deadline,
      ['failed → Failed/DeadlineExceeded'],
      { placement: { namespace: 'roam-a', job: 'roam-j-1' }, finishedAt: at(20), exitCode: null },
    ],
  ])('%s', (_name, record, observation, steps, set) => {
    const result = plan(record, observation);
    expect(stepsOf(result)).toEqual(steps);
    expect(result.set).toEqual(set);
    expect(result.deleteKubeJob).toBe(false);
    expect(result.recheckAt).toBeUndefined();
  });

  it('explains a failure with its cause and why it is not retried', () => {
    const result = plan(running(), obs.exited3);
    expect(result.steps.at(-1)?.state).toEqual({
      status: 'failed',
      phase: 'Failed',
      reason: 'Error',
      message: 'container main exited with code 3; the retry policy allows a single attempt',
    });
  });

  it.each<[string, ReconcileRecord, ReconcileObservation]>([
    ['a start', admitted(), obs.running],
    ['a success', running(), obs.completed],
    ['a failure', running(), obs.exited3],
  ])('is level-triggered: after %s, the same observation again changes nothing', (_n, r, o) => {
    const first = plan(r, o);
    const last = first.steps.at(-1)!.state;
    const after: ReconcileRecord = {
      ...r,
      status: last.status,
      phase: last.phase,
      reason: last.reason ?? null,
      seq: r.seq + first.steps.length,
      startedAt: first.set.startedAt ?? r.startedAt,
      finishedAt: first.set.finishedAt ?? r.finishedAt,
      placement: first.set.placement ?? r.placement,
    };
    const again = plan(after, o);
    expect(again.steps).toEqual([]);
    expect(again.set.startedAt).toBeUndefined();
    expect(again.set.finishedAt).toBeUndefined();
  });
});

describe('planReconcile: a missing Kubernetes Job is Lost only when it is surely gone', () => {
  const lost = {
    steps: ['failed → Failed/Lost'],
    set: { finishedAt: NOW, exitCode: null },
  };
  it.each<[string, ReconcileRecord, ReconcileObservation, Date, typeof lost | null]>([
    [
      'confirmed and missing past the grace period: Lost',
      admitted(),
      obs.gone,
      at(GRACE_MS / 1000 + 1),
      { ...lost, set: { finishedAt: at(GRACE_MS / 1000 + 1), exitCode: null } },
    ],
    [
      'admitted long ago but confirmed within the grace period (a slow create): not yet',
      admitted({ changedAt: at(5) }),
      obs.gone,
      at(GRACE_MS / 1000 + 1),
      null,
    ],
    [
      'confirmed and missing exactly the grace period: not yet',
      admitted(),
      obs.gone,
      at(GRACE_MS / 1000),
      null,
    ],
    [
      'never confirmed created: the scheduler still owns it, however long it takes',
      admitted({ placement: null }),
      obs.gone,
      at(3600),
      null,
    ],
    [
      'running and missing: Lost at once, no grace',
      running({ admittedAt: NOW }),
      obs.gone,
      NOW,
      lost,
    ],
    [
      'informers not synced yet: absence means nothing',
      running(),
      { ...obs.gone, synced: false },
      NOW,
      null,
    ],
    [
      'informers not synced yet: a present Job is not read either',
      running(),
      { ...obs.completed, synced: false },
      NOW,
      null,
    ],
    ['queued: the scheduler owns it, even with a Job in sight', queued(), obs.running, NOW, null],
    [
      'waiting in Kueue (Job created suspended) and missing past the grace period: Lost',
      queued(),
      obs.gone,
      at(GRACE_MS / 1000 + 1),
      { ...lost, set: { finishedAt: at(GRACE_MS / 1000 + 1), exitCode: null } },
    ],
    [
      'waiting in Kueue and missing within the grace period: not yet',
      queued({ changedAt: at(5) }),
      obs.gone,
      at(GRACE_MS / 1000 + 1),
      null,
    ],
    [
      'queued with no Job created: the scheduler owns it',
      queued({ placement: null }),
      obs.gone,
      at(3600),
      null,
    ],
  ])('%s', (_name, record, observation, now, expected) => {
    const result = plan(record, observation, now);
    if (expected === null) {
      expect(result).toEqual(NOTHING);
      return;
    }
    expect(stepsOf(result)).toEqual(expected.steps);
    expect(result.set).toEqual(expected.set);
    expect(result.steps[0]?.state.message).toBe(
      'the Kubernetes Job no longer exists; the retry policy allows a single attempt',
    );
    expect(result.deleteKubeJob).toBe(false);
  });
});

describe('planReconcile: retries', () => {
  const requeued = (attempt: number, retryInSeconds: number, exitCode: number | null) => ({
    attempt,
    retryAt: new Date(NOW.getTime() + retryInSeconds * 1000),
    admittedAt: null,
    placement: null,
    startedAt: null,
    finishedAt: null,
    exitCode,
  });

  it.each<[string, ReconcileRecord, ReconcileObservation, string[], ReconcilePlan['set']]>([
    [
      'a failed attempt with attempts left goes back to the queue with the next attempt',
      running({ spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(3) } }),
      obs.exited3,
      ['retried → Queued/RetryBackoff'],
      requeued(2, 10, 3),
    ],
    [
      'the backoff grows with each attempt',
      running({ attempt: 2, spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(3) } }),
      obs.exited3,
      ['retried → Queued/RetryBackoff'],
      requeued(3, 20, 3),
    ],
    [
      'the backoff is capped',
      running({
        attempt: 4,
        spec: {
          ttl_seconds_after_finished: 3600,
          retry_policy: retries(9, {
            backoff: { initial_seconds: 10, factor: 2, max_seconds: 30 },
          }),
        },
      }),
      obs.exited3,
      ['retried → Queued/RetryBackoff'],
      requeued(5, 30, 3),
    ],
    [
      'preempted attempts do not count against the retry policy',
      // Attempt 3 after two preemptions is the first failure: one of three attempts used.
      running({
        attempt: 3,
        preemptions: 2,
        spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(2) },
      }),
      obs.exited3,
      ['retried → Queued/RetryBackoff'],
      requeued(4, 10, 3),
    ],
    [
      'an admitted job whose pod ran and failed is started, then retried',
      admitted({ spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(2) } }),
      obs.exited3,
      ['started → Running', 'retried → Queued/RetryBackoff'],
      requeued(2, 10, 3),
    ],
    [
      'a Lost attempt is retried when the policy names Lost',
      running({
        spec: {
          ttl_seconds_after_finished: 3600,
          retry_policy: retries(2, { on_reasons: ['Lost'] }),
        },
      }),
      obs.gone,
      ['retried → Queued/RetryBackoff'],
      requeued(2, 10, null),
    ],
    [
      'a Job lost while it waited in Kueue is retried when the policy names Lost',
      queued({
        spec: {
          ttl_seconds_after_finished: 3600,
          retry_policy: retries(2, { on_reasons: ['Lost'] }),
        },
      }),
      obs.gone,
      ['retried → Queued/RetryBackoff'],
      requeued(2, 10, null),
    ],
    [
      'the last attempt fails for good',
      running({ attempt: 3, spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(3) } }),
      obs.exited3,
      ['failed → Failed/Error'],
      { placement: PLACEMENT, finishedAt: at(20), exitCode: 3 },
    ],
    [
      'a failure the policy does not name fails for good',
      running({
        spec: {
          ttl_seconds_after_finished: 3600,
          retry_policy: retries(3, { on_exit_codes: [137] }),
        },
      }),
      obs.exited3,
      ['failed → Failed/Error'],
      { placement: PLACEMENT, finishedAt: at(20), exitCode: 3 },
    ],
  ])('%s', (_name, record, observation, steps, set) => {
    const result = plan(record, observation);
    expect(stepsOf(result)).toEqual(steps);
    expect(result.set).toEqual(set);
  });

  it('says which attempt failed, why, and when the next one starts', () => {
    const result = plan(
      running({ spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(3) } }),
      obs.exited3,
    );
    expect(result.steps[0]?.state.message).toBe(
      `attempt 1 failed (Error: container main exited with code 3); retrying at ${at(110).toISOString()}`,
    );
  });

  it.each<[string, ReconcileRecord, RegExp]>([
    [
      'no attempts left',
      running({ attempt: 3, spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(3) } }),
      /; attempt 3 of 3 failed; no attempts left$/,
    ],
    [
      'not a failure the policy retries',
      running({
        spec: {
          ttl_seconds_after_finished: 3600,
          retry_policy: retries(3, { on_exit_codes: [137] }),
        },
      }),
      /; Error \(exit code 3\) is not among the failures the retry policy retries$/,
    ],
  ])('a final failure says why it was not retried: %s', (_name, record, message) => {
    expect(plan(record, obs.exited3).steps[0]?.state.message).toMatch(message);
  });
});

describe('planReconcile: an image that never pulls', () => {
  it.each<[string, ReconcileRecord, string[], boolean]>([
    ['fails the job and deletes its Job', admitted(), ['failed → Failed/ImagePullBackOff'], true],
    [
      'or retries it, and still deletes the Job of the failed attempt',
      admitted({ spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(2) } }),
      ['retried → Queued/RetryBackoff'],
      true,
    ],
  ])('%s', (_name, record, steps, deleteKubeJob) => {
    const result = plan(record, obs.pullBackOff);
    expect(stepsOf(result)).toEqual(steps);
    expect(result.deleteKubeJob).toBe(deleteKubeJob);
  });

  it('is stamped with the reconciler clock: Kubernetes records no end', () => {
    expect(plan(admitted(), obs.pullBackOff).set).toMatchObject({
      finishedAt: NOW,
      exitCode: null,
    });
  });

  it('other failures keep their Job (and its logs) until the TTL', () => {
    expect(plan(running(), obs.exited3).deleteKubeJob).toBe(false);
    expect(plan(running(), obs.oomKilled).deleteKubeJob).toBe(false);
  });
});

describe('planReconcile: finished jobs (TTL cleanup and cancel)', () => {
  const ttl = (seconds: number, o: Partial<ReconcileRecord> = {}) => ({
    spec: { ttl_seconds_after_finished: seconds },
    ...o,
  });
  it.each<
    [
      string,
      ReconcileRecord,
      ReconcileObservation,
      Pick<ReconcilePlan, 'deleteKubeJob' | 'recheckAt'>,
    ]
  >([
    [
      'before its TTL: keep the Job and look again when it expires',
      finished('succeeded', ttl(300)),
      obs.completed,
      { deleteKubeJob: false, recheckAt: at(320) },
    ],
    [
      'at its TTL: delete the Job',
      finished('succeeded', ttl(80)),
      obs.completed,
      { deleteKubeJob: true },
    ],
    [
      'past its TTL: delete the Job',
      finished('failed', ttl(10)),
      obs.exited3,
      { deleteKubeJob: true },
    ],
    [
      'a TTL of 0 deletes at once',
      finished('succeeded', ttl(0)),
      obs.completed,
      { deleteKubeJob: true },
    ],
    [
      'no recorded end: the TTL counts from now',
      finished('failed', ttl(60, { finishedAt: null })),
      obs.exited3,
      { deleteKubeJob: false, recheckAt: at(160) },
    ],
    [
      'cancelled: delete the Job at once, whatever the TTL',
      finished('cancelled', ttl(3600)),
      obs.running,
      { deleteKubeJob: true },
    ],
    [
      'the Job is already gone: nothing to do',
      finished('succeeded', ttl(0)),
      obs.gone,
      { deleteKubeJob: false },
    ],
    [
      'already cleaned up: nothing to do',
      finished('cancelled', ttl(0, { cleanupAt: at(50) })),
      obs.running,
      { deleteKubeJob: false },
    ],
  ])('%s', (_name, record, observation, expected) => {
    expect(plan(record, observation)).toEqual({ steps: [], set: {}, ...expected });
  });

  it('never changes a finished job, whatever Kubernetes shows', () => {
    for (const observation of Object.values(obs)) {
      for (const status of ['succeeded', 'failed', 'cancelled'] as const) {
        const result = plan(finished(status), observation);
        expect(result.steps).toEqual([]);
        expect(result.set).toEqual({});
      }
    }
  });
});

describe('retryPolicyOf', () => {
  it.each<[string, ReconcileSpec, ReturnType<typeof retryPolicyOf>]>([
    [
      'no policy: a single attempt with the default backoff',
      { ttl_seconds_after_finished: 0 },
      { maxAttempts: 1, backoff: { initialSeconds: 10, factor: 2, maxSeconds: 600 } },
    ],
    [
      'every field of the JobSpec policy',
      {
        ttl_seconds_after_finished: 0,
        retry_policy: {
          max_attempts: 4,
          on_exit_codes: [1, 2],
          on_reasons: ['OOMKilled'],
          backoff: { initial_seconds: 5, factor: 3, max_seconds: 90 },
        },
      },
      {
        maxAttempts: 4,
        onExitCodes: [1, 2],
        onReasons: ['OOMKilled'],
        backoff: { initialSeconds: 5, factor: 3, maxSeconds: 90 },
      },
    ],
  ])('%s', (_name, spec, policy) => {
    expect(retryPolicyOf(spec)).toEqual(policy);
  });
});

describe('planReconcile: a Kubernetes Job goes only once what it holds is stored', () => {
  const stored = (record: ReconcileRecord, observation: ReconcileObservation) =>
    planReconcile(record, observation, {
      now: NOW,
      lostGraceMs: GRACE_MS,
      storage: true,
      maxRequeues: 3,
    });
  const ttl = (seconds: number, o: Partial<ReconcileRecord> = {}) => ({
    spec: { ttl_seconds_after_finished: seconds },
    ...o,
  });
  /** The job's current attempt is `attempt`; Jobs of earlier attempts ended at `at(endedAt)`. */
  const withEarlier = (
    observation: ReconcileObservation,
    ...attempts: [attempt: number, endedAt: number | undefined][]
  ): ReconcileObservation => ({
    ...observation,
    earlier: attempts.map(([attempt, endedAt]) => ({
      attempt,
      finishedAt: endedAt === undefined ? undefined : at(endedAt),
    })),
  });
  const pick = (p: ReconcilePlan) => ({
    deleteKubeJob: p.deleteKubeJob,
    deleteAttempts: p.deleteAttempts ?? [],
    awaitingStorage: p.awaitingStorage ?? [],
    recheckAt: p.recheckAt,
  });
  type Expected = ReturnType<typeof pick>;
  const expected = (o: Partial<Expected>): Expected => ({
    deleteKubeJob: false,
    deleteAttempts: [],
    awaitingStorage: [],
    recheckAt: undefined,
    ...o,
  });

  it.each<[string, ReconcileRecord, ReconcileObservation, Expected]>([
    [
      'past its TTL, not stored yet: keep the Job and say it waits for storage',
      finished('succeeded', ttl(0)),
      obs.completed,
      expected({ awaitingStorage: [1] }),
    ],
    [
      'past its TTL, log archived but results not collected: still waits',
      finished('failed', ttl(0, { archivedAttempts: [1] })),
      obs.exited3,
      expected({ awaitingStorage: [1] }),
    ],
    [
      'past its TTL and stored: delete the Job',
      finished('succeeded', ttl(0, { storedAt: at(30), archivedAttempts: [1] })),
      obs.completed,
      expected({ deleteKubeJob: true }),
    ],
    [
      'stored with a recorded failure (no log, results unreadable): delete the Job',
      finished('failed', ttl(0, { storedAt: at(30) })),
      obs.exited3,
      expected({ deleteKubeJob: true }),
    ],
    [
      'stored before its TTL: the TTL still holds',
      finished('succeeded', ttl(300, { storedAt: at(30) })),
      obs.completed,
      expected({ recheckAt: at(320) }),
    ],
    [
      'cancelled: waits for the log so far',
      finished('cancelled', ttl(3600)),
      obs.running,
      expected({ awaitingStorage: [1] }),
    ],
    [
      'cancelled, log archived: delete at once (results of a cancelled job are not awaited)',
      finished('cancelled', ttl(3600, { archivedAttempts: [1] })),
      obs.running,
      expected({ deleteKubeJob: true }),
    ],
    [
      'an earlier attempt past its TTL, log not archived: kept, waiting',
      running(ttl(10, { attempt: 2 })),
      withEarlier(obs.running, [1, 20]),
      expected({ awaitingStorage: [1] }),
    ],
    [
      'an earlier attempt past its TTL with its log archived: deleted',
      running(ttl(10, { attempt: 3, archivedAttempts: [1, 2] })),
      withEarlier(obs.running, [1, 20], [2, 40]),
      expected({ deleteAttempts: [1, 2] }),
    ],
    [
      'earlier attempts before their TTL: look again at the first expiry, stored or not',
      running(ttl(100, { attempt: 3, archivedAttempts: [2] })),
      withEarlier(obs.running, [1, 30], [2, 10]),
      expected({ recheckAt: at(110) }),
    ],
    [
      'an earlier attempt that never finished (superseded): no TTL, it waits for its log only',
      running(ttl(3600, { attempt: 2 })),
      withEarlier(obs.running, [1, undefined]),
      expected({ awaitingStorage: [1] }),
    ],
    [
      'an earlier attempt that never finished, its log archived: deleted at once',
      running(ttl(3600, { attempt: 2, archivedAttempts: [1] })),
      withEarlier(obs.running, [1, undefined]),
      expected({ deleteAttempts: [1] }),
    ],
    [
      'a finished retried job: each Job waits for its own log, the last one for the results',
      finished('succeeded', ttl(0, { attempt: 2, archivedAttempts: [1, 2] })),
      withEarlier(obs.completed, [1, 10]),
      expected({ deleteAttempts: [1], awaitingStorage: [2] }),
    ],
    [
      'an image that never pulls: deleted at once, it has no log and no results',
      admitted(),
      obs.pullBackOff,
      expected({ deleteKubeJob: true }),
    ],
  ])('%s', (_name, record, observation, want) => {
    expect(pick(stored(record, observation))).toEqual(want);
  });

  it.each<[string, ReconcileRecord, ReconcileObservation, Expected]>([
    [
      'the current attempt at its TTL',
      finished('succeeded', ttl(0)),
      obs.completed,
      expected({ deleteKubeJob: true }),
    ],
    ['a cancel', finished('cancelled', ttl(3600)), obs.running, expected({ deleteKubeJob: true })],
    [
      'an earlier attempt at its TTL',
      running(ttl(10, { attempt: 2 })),
      withEarlier(obs.running, [1, 20]),
      expected({ deleteAttempts: [1] }),
    ],
  ])('with no storage configured nothing waits: %s', (_name, record, observation, want) => {
    expect(pick(plan(record, observation))).toEqual(want);
  });
});

describe('planReconcile: an attempt lost with its node is requeued without using a retry', () => {
  /** The failed Job and pod a deleted node leaves (the simulator and pod GC say NodeLost). */
  const nodeLost = (facts?: ReconcileObservation['node']): ReconcileObservation => ({
    ...seen(kubeJob({ type: 'Failed', reason: 'BackoffLimitExceeded' }), {
      ...pod('Failed', exited(137)),
      status: {
        phase: 'Failed',
        reason: 'NodeLost',
        message: 'Node node-1 which was running the pod was deleted',
        containerStatuses: [{ name: 'main', state: exited(137) }],
      },
    }),
    ...(facts ? { node: facts } : {}),
  });
  const spot = { spot: true, pool: 'spot-pool', gone: true };
  const requeuedSet = (attempt: number, requeues: number) => ({
    attempt,
    requeues,
    retryAt: null,
    admittedAt: null,
    placement: null,
    startedAt: null,
    finishedAt: null,
    exitCode: 137,
  });

  it.each<[string, ReconcileRecord, string[], ReconcilePlan['set'], string]>([
    [
      'a single-attempt job on a reclaimed spot node: requeued, no retry used',
      running(),
      ['requeued → Queued/CapacityLost'],
      requeuedSet(2, 1),
      'requeued: node node-1 of pool spot-pool was reclaimed (spot); no retry used (requeue 1 of at most 3)',
    ],
    [
      'a job that already used a retry keeps it counted: requeues go up, not retries',
      running({ attempt: 2, spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(2) } }),
      ['requeued → Queued/CapacityLost'],
      requeuedSet(3, 1),
      'requeued: node node-1 of pool spot-pool was reclaimed (spot); no retry used (requeue 1 of at most 3)',
    ],
    [
      'an admitted job whose pod started then lost its node: started, then requeued',
      admitted(),
      ['started → Running', 'requeued → Queued/CapacityLost'],
      { ...requeuedSet(2, 1), startedAt: null },
      'requeued: node node-1 of pool spot-pool was reclaimed (spot); no retry used (requeue 1 of at most 3)',
    ],
    [
      'past MAX_REQUEUES: the loss is a failure, and the single-attempt policy ends it',
      running({ attempt: 4, requeues: 3 }),
      ['failed → Failed/Lost'],
      { placement: PLACEMENT, finishedAt: at(20), exitCode: 137 },
      'node node-1 of pool spot-pool was reclaimed (spot); already requeued 3 times for lost capacity (MAX_REQUEUES 3), so this counts as a failure; the retry policy allows a single attempt',
    ],
  ])('%s', (_name, record, steps, set, message) => {
    const result = plan(record, nodeLost(spot));
    expect(stepsOf(result)).toEqual(steps);
    expect(result.set).toEqual(set);
    expect(result.steps.at(-1)?.state.message).toBe(message);
    expect(result.deleteKubeJob).toBe(false);
  });

  it('past MAX_REQUEUES, retries left are used as for any failure: attempt - requeues counts', () => {
    const record = running({
      attempt: 4,
      requeues: 3,
      spec: { ttl_seconds_after_finished: 3600, retry_policy: retries(2) },
    });
    const result = plan(record, nodeLost(spot));
    expect(stepsOf(result)).toEqual(['retried → Queued/RetryBackoff']);
    expect(result.set).toMatchObject({ attempt: 5, retryAt: at(110) });
    expect(result.set.requeues).toBeUndefined();
  });

  it('a container that exits non-zero is not a capacity loss: it fails as before', () => {
    expect(stepsOf(plan(running(), obs.exited3))).toEqual(['failed → Failed/Error']);
  });

  it('a Kubernetes Job that vanished (cause unknown) is not a capacity loss', () => {
    expect(stepsOf(plan(running(), obs.gone))).toEqual(['failed → Failed/Lost']);
  });
});

describe('planReconcile: a multi-host TPU slice runs when every host runs', () => {
  // The spec names no parallelism; its indexed Job has one pod per host of the slice.
  const sliceJob: KubeJob = { ...kubeJob(), spec: { backoffLimit: 0, parallelism: 4 } };
  const up = pod('Running', { running: { startedAt: at(5) } });
  const waiting = pod('Pending', { waiting: { reason: 'ContainerCreating' } });

  it('stays admitted while some hosts have no running pod', () => {
    const p = plan(admitted(), seen(sliceJob, up, up, up, waiting));
    expect(stepsOf(p)).toEqual([]);
  });

  it('starts once every host runs', () => {
    const p = plan(admitted(), seen(sliceJob, up, up, up, up));
    expect(stepsOf(p)).toEqual(['started → Running']);
  });
});

describe('planReconcile: JobSet restarts (failure_policy.max_restarts)', () => {
  const jobSetSpec = {
    ttl_seconds_after_finished: 3600,
    replicated_jobs: [{ replicas: 1 }],
    failure_policy: { max_restarts: 3 },
  };
  const restarted = (restarts: number, condition?: { type: string; reason?: string }) => {
    const job = kubeJob(condition);
    return { ...job, status: { ...job.status, restarts } };
  };
  const withRestarts = (restarts: number, condition?: { type: string; reason?: string }) =>
    seen(restarted(restarts, condition), pod('Running', { running: { startedAt: at(5) } }));

  it.each<[string, ReconcileRecord, ReconcileObservation, string[], ReconcilePlan['set']]>([
    [
      'a first restart: one step, the counters of this attempt',
      running({ spec: jobSetSpec }),
      withRestarts(1),
      ['restarted → Running'],
      { restarts: 1, attemptRestarts: 1, restartsAttempt: 1 },
    ],
    [
      'two restarts seen at once: one step each',
      running({ spec: jobSetSpec }),
      withRestarts(2),
      ['restarted → Running', 'restarted → Running'],
      { restarts: 2, attemptRestarts: 2, restartsAttempt: 1 },
    ],
    [
      'a restart already recorded for this attempt: nothing',
      running({ spec: jobSetSpec, restarts: 1, attemptRestarts: 1, restartsAttempt: 1 }),
      withRestarts(1),
      [],
      {},
    ],
    [
      "a new attempt's JobSet counts from 0: the total grows on",
      running({
        spec: jobSetSpec,
        attempt: 2,
        restarts: 3,
        attemptRestarts: 3,
        restartsAttempt: 1,
      }),
      withRestarts(1),
      ['restarted → Running'],
      { restarts: 4, attemptRestarts: 1, restartsAttempt: 2 },
    ],
    [
      'a restart while admitted (not every pod ran yet) keeps the job Admitted',
      admitted({ spec: jobSetSpec }),
      seen(restarted(1), pod('Pending', { waiting: { reason: 'ContainerCreating' } })),
      ['restarted → Admitted/ContainerCreating'],
      { restarts: 1, attemptRestarts: 1, restartsAttempt: 1 },
    ],
  ])('%s', (_name, record, observation, steps, set) => {
    const result = plan(record, observation);
    expect(stepsOf(result)).toEqual(steps);
    expect(result.set).toMatchObject(set);
    if (steps.length === 0) expect(result.set.restarts).toBeUndefined();
    result.steps.forEach((step, i) => {
      expect(step.restarts).toBe((record.restartsAttempt === record.attempt ? 1 : 0) + i + 1);
      expect(step.state.message).toContain(`of at most 3`);
    });
  });

  it('restarts used up, then failed: the restarts are recorded before the failure, no retry used', () => {
    const result = plan(
      running({ spec: jobSetSpec }),
      seen(restarted(3, { type: 'Failed', reason: 'FailedJobs' })),
    );
    expect(stepsOf(result).slice(0, 3)).toEqual([
      'restarted → Running',
      'restarted → Running',
      'restarted → Running',
    ]);
    expect(stepsOf(result).at(-1)).toMatch(/^failed → Failed\//);
    expect(result.set).toMatchObject({ restarts: 3, attemptRestarts: 3, restartsAttempt: 1 });
  });
});
