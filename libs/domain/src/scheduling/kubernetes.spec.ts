import { describe, expect, it } from '@jest/globals';

import {
  observeKubernetes,
  type KubeContainerState,
  type KubeJob,
  type KubePod,
} from './kubernetes.js';

const T = (s: number) => `2030-01-01T00:00:${String(s).padStart(2, '0')}Z`;
const D = (s: number) => new Date(T(s));

function kjob(
  opts: {
    condition?: [string, string?, string?];
    backoffLimit?: number;
    failed?: number;
    suspend?: boolean;
  } = {},
): KubeJob {
  const [type, reason, message] = opts.condition ?? [];
  return {
    metadata: { name: 'roam-j1', namespace: 'roam-a' },
    spec: { backoffLimit: opts.backoffLimit ?? 0, ...(opts.suspend ? { suspend: true } : {}) },
    status: {
      ...(type
        ? { conditions: [{ type, status: 'True', reason, message, lastTransitionTime: T(50) }] }
        : {}),
      ...(type === 'Complete' ? { completionTime: T(45) } : {}),
      ...(opts.failed !== undefined ? { failed: opts.failed } : {}),
    },
  };
}

function pod(
  name: string,
  phase: string,
  state: KubeContainerState,
  extra: {
    reason?: string;
    message?: string;
    created?: number;
    disruption?: string;
    unscheduled?: string;
  } = {},
): KubePod {
  return {
    metadata: { name, namespace: 'roam-a', creationTimestamp: T(extra.created ?? 1) },
    spec: { nodeName: 'node-1' },
    status: {
      phase,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.message ? { message: extra.message } : {}),
      startTime: T(2),
      conditions: [
        ...(extra.disruption
          ? [{ type: 'DisruptionTarget', status: 'True', reason: extra.disruption }]
          : []),
        ...(extra.unscheduled
          ? [{ type: 'PodScheduled', status: 'False', message: extra.unscheduled }]
          : []),
      ],
      containerStatuses: [{ name: 'main', state }],
    },
  };
}

const exited = (exitCode: number, reason = 'Error'): KubeContainerState => ({
  terminated: { exitCode, reason, startedAt: T(3), finishedAt: T(40) },
});

describe('observeKubernetes', () => {
  it("leaves a JobSet's failed pod to the JobSet's failure policy, and fails on its Failed condition", () => {
    const jobSet = (condition?: [string, string?, string?]): KubeJob => ({
      ...kjob({ condition }),
      kind: 'JobSet',
    });
    const failedPod = pod('p1', 'Failed', exited(3));
    expect(observeKubernetes(jobSet(), [failedPod])).toMatchObject({
      status: 'pending',
      phase: 'Admitted',
      message: expect.stringMatching(/the JobSet's failure policy decides$/),
    });
    // The same pod under a plain Job with no retries left is the failure.
    expect(observeKubernetes(kjob({ backoffLimit: 0 }), [failedPod])).toMatchObject({
      phase: 'Failed',
      exitCode: 3,
    });
    expect(observeKubernetes(jobSet(['Failed', 'FailedJobs']), [failedPod])).toMatchObject({
      status: 'failed',
      phase: 'Failed',
      exitCode: 3,
    });
  });

  it.each<[string, KubeJob | null, KubePod[], Record<string, unknown>]>([
    [
      'Complete',
      kjob({ condition: ['Complete'] }),
      [pod('p1', 'Succeeded', exited(0, 'Completed'))],
      { status: 'succeeded', phase: 'Succeeded', exitCode: 0, startedAt: D(3), finishedAt: D(45) },
    ],
    [
      'BackoffLimitExceeded with a plain non-zero exit',
      kjob({
        condition: [
          'Failed',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
        ],
      }),
      [pod('p1', 'Failed', exited(1))],
      {
        status: 'failed',
        phase: 'Failed',
        reason: 'BackoffLimitExceeded',
        message: 'container main exited with code 1',
        exitCode: 1,
        finishedAt: D(50),
      },
    ],
    [
      'OOMKilled (more specific than the backoff limit)',
      kjob({ condition: ['Failed', 'BackoffLimitExceeded'] }),
      [pod('p1', 'Failed', exited(137, 'OOMKilled'))],
      {
        phase: 'Failed',
        reason: 'OOMKilled',
        exitCode: 137,
        message: expect.stringMatching(/ran out of memory/),
      },
    ],
    [
      'DeadlineExceeded (wins over the killed pod)',
      kjob({
        condition: ['Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
      }),
      [pod('p1', 'Failed', exited(143))],
      {
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'Job was active longer than specified deadline',
      },
    ],
    [
      'Evicted',
      kjob({ condition: ['Failed', 'BackoffLimitExceeded'] }),
      [
        pod(
          'p1',
          'Failed',
          {},
          { reason: 'Evicted', message: 'The node was low on resource: memory.' },
        ),
      ],
      { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' },
    ],
    [
      'Evicted through the eviction API (drain)',
      kjob({ condition: ['Failed', 'BackoffLimitExceeded'] }),
      [pod('p1', 'Failed', exited(143), { disruption: 'EvictionByEvictionAPI' })],
      { phase: 'Failed', reason: 'Evicted' },
    ],
    [
      'Lost with its node',
      kjob({ condition: ['Failed', 'BackoffLimitExceeded'] }),
      [pod('p1', 'Failed', {}, { disruption: 'DeletionByTaintManager' })],
      { phase: 'Failed', reason: 'Lost', message: 'pod was lost with node-1' },
    ],
    [
      'Lost: the Kubernetes Job is gone',
      null,
      [],
      {
        status: 'failed',
        phase: 'Failed',
        reason: 'Lost',
        message: 'the Kubernetes Job no longer exists',
      },
    ],
    [
      'ImagePullBackOff (Kubernetes would retry forever)',
      kjob(),
      [
        pod('p1', 'Pending', {
          waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' },
        }),
      ],
      {
        status: 'failed',
        phase: 'Failed',
        reason: 'ImagePullBackOff',
        message: expect.stringMatching(/Back-off pulling image/),
      },
    ],
    [
      'ErrImagePull',
      kjob(),
      [pod('p1', 'Pending', { waiting: { reason: 'ErrImagePull' } })],
      { phase: 'Failed', reason: 'ImagePullBackOff' },
    ],
    [
      'a failed pod and no retries left, before the Job condition lands',
      kjob({ backoffLimit: 0 }),
      [pod('p1', 'Failed', exited(2))],
      { phase: 'Failed', reason: 'Error', exitCode: 2, finishedAt: D(40) },
    ],
    [
      'a failed pod with retries left',
      kjob({ backoffLimit: 3, failed: 1 }),
      [pod('p1', 'Failed', exited(2))],
      {
        status: 'pending',
        phase: 'Admitted',
        reason: 'ContainerCreating',
        message: expect.stringMatching(/Kubernetes is retrying/),
      },
    ],
    [
      'running',
      kjob(),
      [pod('p1', 'Running', { running: { startedAt: T(5) } })],
      {
        status: 'running',
        phase: 'Running',
        startedAt: D(5),
        placement: { namespace: 'roam-a', job: 'roam-j1', pod: 'p1', node: 'node-1' },
      },
    ],
    [
      'the newest pod is the current attempt',
      kjob({ backoffLimit: 3, failed: 1 }),
      [
        pod('p2', 'Running', { running: { startedAt: T(9) } }, { created: 8 }),
        pod('p1', 'Failed', exited(1)),
      ],
      { phase: 'Running', startedAt: D(9), placement: expect.objectContaining({ pod: 'p2' }) },
    ],
    [
      'container creating',
      kjob(),
      [pod('p1', 'Pending', { waiting: { reason: 'ContainerCreating' } })],
      {
        status: 'pending',
        phase: 'Admitted',
        reason: 'ContainerCreating',
        message: 'ContainerCreating',
      },
    ],
    [
      'not scheduled yet',
      kjob(),
      [pod('p1', 'Pending', {}, { unscheduled: '0/3 nodes are available: 3 Insufficient cpu.' })],
      {
        phase: 'Admitted',
        message: 'pod not scheduled yet: 0/3 nodes are available: 3 Insufficient cpu.',
      },
    ],
    [
      'no pod yet',
      kjob(),
      [],
      { phase: 'Admitted', message: 'waiting for the Job controller to create a pod' },
    ],
    [
      'suspended',
      kjob({ suspend: true }),
      [],
      { phase: 'Admitted', message: 'the Kubernetes Job is suspended' },
    ],
  ])('%s', (_name, kubeJob, pods, expected) => {
    expect(observeKubernetes(kubeJob, pods)).toMatchObject(expected);
  });

  it('accepts client-node objects, whose timestamps are Dates', () => {
    const p = pod('p1', 'Running', { running: { startedAt: D(7) } });
    expect(observeKubernetes(kjob(), [p]).startedAt).toEqual(D(7));
  });
});
