import { describe, expect, it } from '@jest/globals';

import type { Waiting } from './admission.js';
import {
  capacityRequeue,
  withCapacityLoss,
  type NodeOfPod,
  podCapacityLoss,
  waitingCapacityLoss,
} from './capacity-loss.js';
import type { KubePod } from './kubernetes.js';
import type { NodeState } from './snapshot.js';
import { job, node, resources } from './testing.js';

/** A failed pod on `gke-spot-3`, with the status a node loss (or another failure) leaves. */
const failedPod = (
  status: { reason?: string; disruption?: string; exitReason?: string },
  nodeSelector?: Record<string, string>,
): KubePod => ({
  metadata: { name: 'roam-j-1-x' },
  spec: { nodeName: 'gke-spot-3', ...(nodeSelector ? { nodeSelector } : {}) },
  status: {
    phase: 'Failed',
    ...(status.reason ? { reason: status.reason } : {}),
    ...(status.disruption
      ? { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: status.disruption }] }
      : {}),
    containerStatuses: [
      {
        name: 'main',
        state: {
          terminated: {
            exitCode: 137,
            ...(status.exitReason ? { reason: status.exitReason } : {}),
          },
        },
      },
    ],
  },
});

const SPOT: NodeOfPod = { spot: true, pool: 'spot-l4', gone: true };
const ON_DEMAND: NodeOfPod = { spot: false, pool: 'cpu', gone: true };

describe('podCapacityLoss: was the attempt lost with its node?', () => {
  it.each<[string, KubePod | undefined, NodeOfPod | undefined, string | undefined]>([
    [
      'a spot node deleted under the pod: reclaimed (spot)',
      failedPod({ reason: 'NodeLost' }),
      SPOT,
      'node gke-spot-3 of pool spot-l4 was reclaimed (spot)',
    ],
    [
      'pod GC after the node was deleted, on-demand: deleted',
      failedPod({ disruption: 'DeletionByPodGC' }),
      ON_DEMAND,
      'node gke-spot-3 of pool cpu was deleted',
    ],
    [
      'the taint manager evicted it from an unreachable node: deleted',
      failedPod({ disruption: 'DeletionByTaintManager' }),
      undefined,
      'node gke-spot-3 was deleted',
    ],
    [
      'graceful node shutdown on a spot node (how GKE takes spot capacity back): reclaimed',
      failedPod({ reason: 'Terminated', disruption: 'TerminationByKubelet' }),
      SPOT,
      'node gke-spot-3 of pool spot-l4 was reclaimed (spot)',
    ],
    [
      'graceful node shutdown on an on-demand node: shut down',
      failedPod({ reason: 'Terminated', disruption: 'TerminationByKubelet' }),
      ON_DEMAND,
      'node gke-spot-3 of pool cpu was shut down',
    ],
    [
      'evicted through the eviction API (a drain): drained, even on spot',
      failedPod({ disruption: 'EvictionByEvictionAPI' }),
      SPOT,
      'node gke-spot-3 of pool spot-l4 was drained (spot)',
    ],
    [
      'the pod selected spot nodes but the informer never saw the node: still spot',
      failedPod({ reason: 'NodeLost' }, { 'cloud.google.com/gke-spot': 'true' }),
      undefined,
      'node gke-spot-3 was reclaimed (spot)',
    ],
    [
      'evicted for node pressure (no DisruptionTarget): the job used too much, not lost',
      failedPod({ reason: 'Evicted' }),
      ON_DEMAND,
      undefined,
    ],
    ['OOM-killed: the job own failure', failedPod({ exitReason: 'OOMKilled' }), SPOT, undefined],
    ['a plain non-zero exit: the job own failure', failedPod({}), SPOT, undefined],
    ['no pod at all (the Job vanished): cause unknown', undefined, undefined, undefined],
    [
      'a pod still running: nothing lost yet',
      { spec: { nodeName: 'gke-spot-3' }, status: { phase: 'Running' } },
      SPOT,
      undefined,
    ],
  ])('%s', (_name, pod, facts, message) => {
    expect(podCapacityLoss(pod, facts)?.message).toBe(message);
  });
});

describe('capacityRequeue: lost capacity uses no retry, a bounded number of times', () => {
  const loss = { node: 'n', kind: 'reclaimed' as const, message: 'node n was reclaimed (spot)' };
  it.each<[string, number, number, boolean, string]>([
    [
      'first loss: requeued',
      0,
      3,
      true,
      'requeued: node n was reclaimed (spot); no retry used (requeue 1 of at most 3)',
    ],
    [
      'last allowed loss: requeued',
      2,
      3,
      true,
      'requeued: node n was reclaimed (spot); no retry used (requeue 3 of at most 3)',
    ],
    [
      'past the bound: a failure for the retry policy',
      3,
      3,
      false,
      'node n was reclaimed (spot); already requeued 3 times for lost capacity (MAX_REQUEUES 3), so this counts as a failure',
    ],
    [
      'MAX_REQUEUES 0: never requeued',
      0,
      0,
      false,
      'node n was reclaimed (spot); already requeued 0 times for lost capacity (MAX_REQUEUES 0), so this counts as a failure',
    ],
  ])('%s', (_name, requeues, max, requeue, message) => {
    expect(capacityRequeue(loss, requeues, max)).toEqual({ requeue, message });
  });
});

describe('waitingCapacityLoss: is a waiting job blocked by lost capacity, not by busy nodes?', () => {
  const a100 = (name: string) => node(name).pool('gpu-a100').accelerator('nvidia-a100', 8);
  const cpu = (name: string) => node(name).pool('cpu').allocatable({ cpu: 32, memory: '128Gi' });
  const gpuJob = job('j').gpu(8).obj();
  const a100Job = { ...gpuJob, gpuType: 'nvidia-a100' };
  const cordonedBy = new Map([
    ['a100-1', 'act_123'],
    ['a100-2', 'act_123'],
  ]);

  it.each<[string, NodeState[], Map<string, string> | undefined, string | undefined]>([
    [
      'the only GPU pool is cordoned by a failover action: lost, naming the action',
      [a100('a100-1').cordoned().obj(), a100('a100-2').cordoned().obj(), cpu('cpu-1').obj()],
      cordonedBy,
      'pool gpu-a100 cordoned by action act_123; no other node can take 8× GPU',
    ],
    [
      'cordoned by hand (no action): lost, without an action',
      [a100('a100-1').cordoned().obj(), cpu('cpu-1').obj()],
      undefined,
      'pool gpu-a100 cordoned; no other node can take 8× GPU',
    ],
    [
      'one node cordoned, the other NotReady',
      [a100('a100-1').cordoned().obj(), a100('a100-2').notReady().obj()],
      cordonedBy,
      'pool gpu-a100 cordoned or NotReady by action act_123; no other node can take 8× GPU',
    ],
    [
      'one node of the pool is still usable (busy or not): not lost, it waits for room',
      [a100('a100-1').cordoned().obj(), a100('a100-2').requested({ gpu: 8 }).obj()],
      cordonedBy,
      undefined,
    ],
    [
      'no node could ever hold it: Unschedulable, nothing was lost',
      [cpu('cpu-1').cordoned().obj()],
      undefined,
      undefined,
    ],
    [
      'a node too small for it being usable does not count',
      [
        a100('a100-1').cordoned().obj(),
        node('small').pool('gpu-a100').accelerator('nvidia-a100', 4).obj(),
      ],
      cordonedBy,
      'pool gpu-a100 cordoned by action act_123; no other node can take 8× GPU',
    ],
  ])('%s', (_name, nodes, actions, message) => {
    expect(
      waitingCapacityLoss(gpuJob, nodes, actions ? { cordonedBy: actions } : {})?.message,
    ).toBe(message);
  });

  it('names the GPU type the job asks for, and only nodes of that type count', () => {
    const nodes = [
      a100('a100-1').cordoned().obj(),
      node('l4-1').pool('gpu-l4').accelerator('nvidia-l4', 8).obj(),
    ];
    expect(waitingCapacityLoss(a100Job, nodes, { cordonedBy })).toEqual({
      pools: ['gpu-a100'],
      message: 'pool gpu-a100 cordoned by action act_123; no other node can take 8× nvidia-a100',
    });
  });

  it('CPU jobs say what they ask for', () => {
    const cpuJob = job('c').cpu(16).memory('8Gi').obj();
    expect(waitingCapacityLoss(cpuJob, [cpu('cpu-1').notReady().obj()])?.message).toBe(
      'pool cpu NotReady; no other node can take 16 CPU and 8192 MiB',
    );
  });
});

describe('withCapacityLoss: admission waits whose capacity is gone, not busy', () => {
  const gpuPool = [
    node('a100-1').pool('gpu-a100').accelerator('nvidia-a100', 8).cordoned().obj(),
    node('cpu-1')
      .pool('cpu')
      .allocatable({ cpu: 32, memory: '128Gi' })
      .requested({ cpu: 32 })
      .obj(),
  ];
  const facts = { cordonedBy: new Map([['a100-1', 'act_9']]) };
  const wait = (jobId: string, reason: Waiting['reason'], message = 'busy'): Waiting => ({
    jobId,
    tenantId: 't',
    reason,
    message,
    blocker: { kind: 'capacity', needed: resources({ gpu: 1 }), unavailable: [] },
    offloadCandidate: false,
  });
  const allowed = job('allowed').gpu(1).offload('allowed').obj();
  const never = job('never').gpu(1).obj();
  const cpuJob = job('cpu').cpu(4).obj();
  const quota = job('quota').gpu(1).offload('allowed').obj();

  it.each<[string, Waiting, string, string]>([
    [
      'offload allowed: capacity unavailable, and the message is what the offload will say',
      wait('allowed', 'InsufficientCapacity'),
      'CapacityUnavailable',
      'pool gpu-a100 cordoned by action act_9; no other node can take 1× GPU',
    ],
    [
      'offload never: capacity unavailable, and it says it waits',
      wait('never', 'InsufficientCapacity'),
      'CapacityUnavailable',
      'pool gpu-a100 cordoned by action act_9; no other node can take 1× GPU; offload: never, so it waits until that capacity is back',
    ],
    [
      'a CPU job on a full but usable pool waits for room as before',
      wait('cpu', 'InsufficientCapacity'),
      'InsufficientCapacity',
      'busy',
    ],
    [
      'a job waiting for its quota keeps its reason, whatever the nodes',
      wait('quota', 'WaitingForQuota', 'quota'),
      'WaitingForQuota',
      'quota',
    ],
  ])('%s', (_name, w, reason, message) => {
    const [out] = withCapacityLoss([w], [allowed, never, cpuJob, quota], gpuPool, facts);
    expect(out).toMatchObject({ jobId: w.jobId, reason, message });
  });
});
