import { describe, expect, it } from '@jest/globals';

import { neverFits, type NeverFitsReason } from './never-fits.js';
import type { NodeState, TenantLimits } from './snapshot.js';
import { node, resources, tenant, type Quantities } from './testing.js';

const limits = (q: Quantities, concurrency = 5): TenantLimits =>
  tenant('a').quota(q).concurrency(concurrency).obj().limits;

describe('neverFits', () => {
  const cpuNode = node('cpu-1').allocatable({ cpu: 16, memory: '64Gi' }).obj();
  const gpuNode = node('gpu-1')
    .allocatable({ cpu: 8, memory: '32Gi', gpu: 2 })
    .taint('nvidia.com/gpu')
    .obj();

  it.each<[string, Quantities, TenantLimits, NodeState[], Partial<NeverFitsReason>[]]>([
    ['fits', { cpu: 2, memory: '4Gi' }, limits({}), [cpuNode], []],
    [
      'fits only a cordoned node (it may come back)',
      { cpu: 2 },
      limits({}),
      [node('n').cordoned().obj()],
      [],
    ],
    ['no nodes at all says nothing about nodes', { gpu: 8 }, limits({}), [], []],
    [
      'larger than the whole quota',
      { cpu: 8, memory: '48Gi' },
      limits({ cpu: 4, memory: '32Gi' }),
      [cpuNode],
      [
        {
          kind: 'quota',
          resource: 'cpuMillis',
          requested: 8000,
          limit: 4000,
          message: "requests 8 CPU but the tenant's whole cpu quota is 4 CPU",
        },
        {
          kind: 'quota',
          resource: 'memoryBytes',
          message: "requests 48Gi memory but the tenant's whole memory quota is 32Gi memory",
        },
      ],
    ],
    [
      'more memory than the largest node',
      { memory: '100Gi' },
      limits({}),
      [cpuNode, gpuNode],
      [
        {
          kind: 'node',
          resource: 'memoryBytes',
          largest: { node: 'cpu-1', allocatable: 64 * 2 ** 30 },
          message: 'requests 100Gi memory but the largest node (cpu-1) has 64Gi memory allocatable',
        },
      ],
    ],
    [
      'more GPUs than any node',
      { gpu: 4 },
      limits({}),
      [cpuNode, gpuNode],
      [
        {
          kind: 'node',
          resource: 'gpu',
          message: 'requests 4 GPUs but the largest node (gpu-1) has 2 GPUs allocatable',
        },
      ],
    ],
    [
      'each dimension fits somewhere, all of them nowhere',
      { cpu: 12, gpu: 1 },
      limits({}),
      [cpuNode, gpuNode],
      [
        {
          kind: 'noSingleNode',
          message: 'requests 12 CPU, 0 memory, 1 GPU, which no single node has allocatable',
        },
      ],
    ],
    [
      'a tenant that may run nothing',
      { cpu: 1 },
      limits({}, 0),
      [cpuNode],
      [{ kind: 'concurrency', limit: 0 }],
    ],
    [
      'every node tainted against the job',
      { cpu: 1 },
      limits({}),
      [node('infra').taint('dedicated', 'NoExecute').obj()],
      [{ kind: 'noMatchingNode' }],
    ],
  ])('%s', (_name, request, tenantLimits, nodes, expected) => {
    const reasons = neverFits(resources(request), tenantLimits, nodes);
    expect(reasons).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(reasons[i]).toMatchObject(e));
  });

  it('honours the job node selector and tolerations, but not transient condition taints', () => {
    const labelled = node('a')
      .label('pool', 'batch')
      .taint('node.kubernetes.io/not-ready', 'NoExecute')
      .obj();
    const tainted = node('b').taint('dedicated', 'NoSchedule', 'ml').obj();
    const r = resources({ cpu: 1 });
    expect(neverFits(r, limits({}), [labelled], { nodeSelector: { pool: 'batch' } })).toEqual([]);
    expect(neverFits(r, limits({}), [labelled], { nodeSelector: { pool: 'gpu' } })).toMatchObject([
      { kind: 'noMatchingNode' },
    ]);
    expect(
      neverFits(r, limits({}), [tainted], {
        tolerations: [{ key: 'dedicated', value: 'ml', effect: 'NoSchedule' }],
      }),
    ).toEqual([]);
    expect(
      neverFits(r, limits({}), [tainted], { tolerations: [{ key: 'dedicated', value: 'web' }] }),
    ).toMatchObject([{ kind: 'noMatchingNode' }]);
  });
});
