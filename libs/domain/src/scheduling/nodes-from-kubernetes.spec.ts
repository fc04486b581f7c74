import { describe, expect, it } from '@jest/globals';

import {
  type NodeJson,
  nodeStatesFromKubernetes,
  type PodJson,
  podRequests,
} from './nodes-from-kubernetes.js';
import type { Resources } from './resources.js';
import type { NodeState } from './snapshot.js';

const GI = 1024 ** 3;
const none: Resources = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };

const node = (name: string, extra: Partial<NodeJson> = {}): NodeJson => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    allocatable: { cpu: '4', memory: '16Gi' },
    conditions: [{ type: 'Ready', status: 'True' }],
  },
  ...extra,
});

const pod = (
  nodeName: string | undefined,
  phase: string | undefined,
  ...requests: Record<string, string>[]
): PodJson => ({
  spec: {
    ...(nodeName === undefined ? {} : { nodeName }),
    containers: requests.map((r) => ({ resources: { requests: r } })),
  },
  ...(phase === undefined ? {} : { status: { phase } }),
});

describe('podRequests', () => {
  it.each<[string, PodJson, Resources]>([
    ['no spec', {}, none],
    ['no containers', { spec: { containers: [] } }, none],
    ['a container without requests', { spec: { containers: [{}] } }, none],
    [
      'one container',
      pod('n1', 'Running', { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }),
      { cpuMillis: 500, memoryBytes: GI, gpu: 1 },
    ],
    [
      'containers add up',
      pod('n1', 'Running', { cpu: '1', memory: '512Mi' }, { cpu: '250m', memory: '512Mi' }),
      { cpuMillis: 1250, memoryBytes: GI, gpu: 0 },
    ],
    [
      'an unparseable quantity counts as 0',
      pod('n1', 'Running', { cpu: 'lots', memory: '1Gi' }),
      { cpuMillis: 0, memoryBytes: GI, gpu: 0 },
    ],
  ])('%s', (_, input, expected) => {
    expect(podRequests(input)).toEqual(expected);
  });
});

describe('nodeStatesFromKubernetes', () => {
  const small = { cpu: '1', memory: '1Gi' };

  it.each<[string, PodJson[], Resources]>([
    ['no pods', [], none],
    [
      'a running pod counts',
      [pod('n1', 'Running', small)],
      { ...none, cpuMillis: 1000, memoryBytes: GI },
    ],
    [
      'a pending pod bound to the node counts',
      [pod('n1', 'Pending', small)],
      { ...none, cpuMillis: 1000, memoryBytes: GI },
    ],
    [
      'a pod without a phase counts',
      [pod('n1', undefined, small)],
      { ...none, cpuMillis: 1000, memoryBytes: GI },
    ],
    ['a succeeded pod does not count', [pod('n1', 'Succeeded', small)], none],
    ['a failed pod does not count', [pod('n1', 'Failed', small)], none],
    ['an unbound pod does not count', [pod(undefined, 'Pending', small)], none],
    ['a pod on another node does not count', [pod('n2', 'Running', small)], none],
    [
      'pods on the node add up',
      [pod('n1', 'Running', small), pod('n1', 'Unknown', small, { 'nvidia.com/gpu': '2' })],
      { cpuMillis: 2000, memoryBytes: 2 * GI, gpu: 2 },
    ],
  ])('requested: %s', (_, pods, expected) => {
    expect(nodeStatesFromKubernetes([node('n1')], pods)[0]!.requested).toEqual(expected);
  });

  it.each<[string, Record<string, string>, string | undefined]>([
    ['no pool label', {}, undefined],
    ['GKE node pool', { 'cloud.google.com/gke-nodepool': 'gke' }, 'gke'],
    ['roam pool', { 'roam.dev/pool': 'roam' }, 'roam'],
    ['Karpenter node pool', { 'karpenter.sh/nodepool': 'karp' }, 'karp'],
    [
      'GKE wins over roam and Karpenter',
      {
        'karpenter.sh/nodepool': 'karp',
        'roam.dev/pool': 'roam',
        'cloud.google.com/gke-nodepool': 'gke',
      },
      'gke',
    ],
    [
      'roam wins over Karpenter',
      { 'karpenter.sh/nodepool': 'karp', 'roam.dev/pool': 'roam' },
      'roam',
    ],
    ['an empty label is no pool', { 'roam.dev/pool': '' }, undefined],
  ])('pool: %s', (_, labels, expected) => {
    const [state] = nodeStatesFromKubernetes(
      [node('n1', { metadata: { name: 'n1', labels } })],
      [],
    );
    expect(state!.pool).toBe(expected);
    expect('pool' in state!).toBe(expected !== undefined);
  });

  it.each<[string, NodeJson, Partial<NodeState>]>([
    [
      'a ready, schedulable node with its allocatable, labels and taints',
      node('n1', {
        spec: { taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] },
        status: {
          allocatable: { cpu: '3500m', memory: '8Gi', 'nvidia.com/gpu': '4' },
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      }),
      {
        name: 'n1',
        allocatable: { cpuMillis: 3500, memoryBytes: 8 * GI, gpu: 4 },
        schedulable: true,
        ready: true,
        labels: { 'kubernetes.io/hostname': 'n1' },
        taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
      },
    ],
    ['cordoned', node('n1', { spec: { unschedulable: true } }), { schedulable: false }],
    [
      'NotReady',
      node('n1', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }),
      { ready: false },
    ],
    [
      'only other conditions True',
      node('n1', { status: { conditions: [{ type: 'MemoryPressure', status: 'True' }] } }),
      { ready: false },
    ],
    [
      'an empty object',
      {},
      {
        name: '',
        allocatable: none,
        requested: none,
        schedulable: true,
        ready: false,
        labels: {},
        taints: [],
      },
    ],
    [
      'an unparseable allocatable counts as 0',
      node('n1', { status: { allocatable: { cpu: 'many', memory: '2Gi' } } }),
      { allocatable: { cpuMillis: 0, memoryBytes: 2 * GI, gpu: 0 } },
    ],
  ])('node: %s', (_, input, expected) => {
    expect(nodeStatesFromKubernetes([input], [])[0]).toEqual(expect.objectContaining(expected));
  });

  it('counts the pods holding a slot on each node against its allocatable.pods', () => {
    const withPods = (name: string, pods: string | undefined): NodeJson =>
      node(name, {
        status: {
          allocatable: { cpu: '4', memory: '16Gi', ...(pods === undefined ? {} : { pods }) },
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      });
    const states = nodeStatesFromKubernetes(
      [withPods('a', '3'), withPods('b', '110'), withPods('c', undefined), withPods('d', 'lots')],
      [
        pod('a', 'Running'),
        pod('a', 'Pending'),
        pod('a', 'Succeeded'),
        pod('a', 'Failed'),
        pod(undefined, 'Pending'),
        pod('c', 'Running'),
      ],
    );
    expect(states.map((s) => [s.name, s.pods])).toEqual([
      ['a', { allocatable: 3, used: 2 }],
      ['b', { allocatable: 110, used: 0 }],
      // No (or no readable) pod limit: placement is not limited by pods.
      ['c', undefined],
      ['d', undefined],
    ]);
  });

  it('keeps every node, in order, each with only its own pods', () => {
    const states = nodeStatesFromKubernetes(
      [node('b'), node('a', { spec: { unschedulable: true } })],
      [pod('a', 'Running', { cpu: '1' }), pod('b', 'Running', { cpu: '2' })],
    );
    expect(states.map((s) => [s.name, s.requested.cpuMillis])).toEqual([
      ['b', 2000],
      ['a', 1000],
    ]);
  });
});
