import { describe, expect, it } from '@jest/globals';

import { type KueueTenant, resourceFlavor, tenantClusterQueue, tenantFlavors } from './queues.js';

const storage = { defaultRequest: '1Gi', defaultLimit: '2Gi', max: '4Gi', perJob: '2Gi' };
const queues = {
  name: 'roam-a',
  namespace: 'roam-a',
  cohort: 'roam',
  flavor: 'default-flavor',
  labels: { 'roam.dev/tenant': 'a' },
  admissionChecks: ['roam-inputs'],
};
const limits = { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, gpu: 2, maxConcurrentJobs: 3 };
const cq = (t: Partial<KueueTenant>) => tenantClusterQueue({ limits, ...t }, storage, queues);
type Flavor = { name: string; resources: Record<string, unknown>[] };
const groups = (t: Partial<KueueTenant>) =>
  cq(t).spec.resourceGroups as { coveredResources: string[]; flavors: Flavor[] }[];
const generic = (t: Partial<KueueTenant>) =>
  Object.fromEntries(
    groups(t)[0]!.flavors[0]!.resources.map((r) => [r.name, [r.nominalQuota, r.borrowingLimit]]),
  );

describe('tenantClusterQueue', () => {
  it.each([
    // tenant, cohort, reclaimWithinCohort
    [{}, 'roam', 'Never'],
    [{ cohort: null }, 'roam', 'Never'],
    [{ cohort: 'research' }, 'roam-cohort-research', 'Any'],
  ] as [Partial<KueueTenant>, string, string][])(
    '%j is in cohort %s, reclaimWithinCohort %s, and never preempts to borrow',
    (tenant, cohort, reclaim) => {
      expect(cq(tenant).spec).toMatchObject({
        cohort,
        preemption: {
          withinClusterQueue: 'LowerPriority',
          reclaimWithinCohort: reclaim,
          borrowWithinCohort: { policy: 'Never' },
        },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'roam-a' } },
        admissionChecks: ['roam-inputs'],
      });
    },
  );

  it.each([
    // tenant, resource → [nominalQuota, borrowingLimit] of the generic flavor
    [
      {},
      {
        cpu: ['4', '0'],
        memory: ['8Gi', '0'],
        'nvidia.com/gpu': ['2', '0'],
        'ephemeral-storage': ['6Gi', '0'],
        pods: ['3', '0'],
      },
    ],
    // a cohort member with no borrowing limit: no field (borrow whatever is idle), but
    // concurrency and disk stay caps
    [
      { cohort: 'research' },
      {
        cpu: ['4', undefined],
        memory: ['8Gi', undefined],
        'nvidia.com/gpu': ['2', undefined],
        'ephemeral-storage': ['6Gi', '0'],
        pods: ['3', '0'],
      },
    ],
    [
      { cohort: 'research', borrowingLimit: { cpuMillis: 1500, gpu: 1 } },
      {
        cpu: ['4', '1500m'],
        memory: ['8Gi', undefined],
        'nvidia.com/gpu': ['2', '1'],
        'ephemeral-storage': ['6Gi', '0'],
        pods: ['3', '0'],
      },
    ],
    // GPUs per type leave the generic flavor for their own
    [
      { gpuByType: { 'nvidia-l4': 2 } },
      {
        cpu: ['4', '0'],
        memory: ['8Gi', '0'],
        'ephemeral-storage': ['6Gi', '0'],
        pods: ['3', '0'],
      },
    ],
  ] as [Partial<KueueTenant>, Record<string, unknown[]>][])(
    '%j: generic flavor quotas %j',
    (tenant, expected) => {
      expect(generic(tenant)).toEqual(expected);
      expect(groups(tenant)[0]!.coveredResources).toEqual(Object.keys(expected));
    },
  );

  it('writes no borrowingLimit key at all where there is no limit (merge-patch replaces the array)', () => {
    const cpu = groups({ cohort: 'research' })[0]!.flavors[0]!.resources[0]!;
    expect(Object.keys(cpu)).toEqual(['name', 'nominalQuota']);
  });

  it.each([
    // tenant, the GPU and TPU groups: [covered, [[flavor, nominal, borrowing]]]
    [{}, [['google.com/tpu', [['roam-tpu', '1000000', '0']]]]],
    [{ tpu: 16 }, [['google.com/tpu', [['roam-tpu', '16', '0']]]]],
    [
      {
        gpuByType: { 'nvidia-l4': 2, 'nvidia-h100-80gb': 1 },
        tpu: 8,
        tpuByType: { 'tpu-v5-lite-podslice': 8 },
      },
      [
        [
          'nvidia.com/gpu',
          [
            ['roam-gpu-nvidia-h100-80gb', '1', '0'],
            ['roam-gpu-nvidia-l4', '2', '0'],
          ],
        ],
        ['google.com/tpu', [['roam-tpu-tpu-v5-lite-podslice', '8', '0']]],
      ],
    ],
  ] as [Partial<KueueTenant>, [string, string[][]][]][])(
    '%j: per-type groups %j',
    (tenant, expected) => {
      expect(
        groups(tenant)
          .slice(1)
          .map((g) => [
            g.coveredResources.join(','),
            g.flavors.map((f) => [
              f.name,
              f.resources[0]!.nominalQuota,
              f.resources[0]!.borrowingLimit,
            ]),
          ]),
      ).toEqual(expected);
      // Kueue refuses a flavor named in two groups, and a resource covered twice.
      const names = groups(tenant).flatMap((g) => g.flavors.map((f) => f.name));
      expect(new Set(names).size).toBe(names.length);
      const covered = groups(tenant).flatMap((g) => g.coveredResources);
      expect(new Set(covered).size).toBe(covered.length);
    },
  );
});

describe('tenantFlavors and resourceFlavor', () => {
  it.each([
    [{}, [['roam-tpu', {}]]],
    [
      { gpuByType: { 'nvidia-l4': 4 }, tpuByType: { 'tpu-v6e-slice': 8 } },
      [
        ['roam-gpu-nvidia-l4', { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }],
        ['roam-tpu-tpu-v6e-slice', { 'cloud.google.com/gke-tpu-accelerator': 'tpu-v6e-slice' }],
      ],
    ],
  ] as [Partial<KueueTenant>, [string, Record<string, string>][]][])(
    '%j needs the flavors %j',
    (tenant, expected) => {
      expect(tenantFlavors({ limits, ...tenant }).map((f) => [f.name, f.nodeLabels])).toEqual(
        expected,
      );
    },
  );

  it('writes a flavor with its node labels, labelled as roam’s; none without labels', () => {
    const managed = { 'app.kubernetes.io/managed-by': 'roam' };
    expect(
      resourceFlavor(
        {
          name: 'roam-gpu-nvidia-l4',
          nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        },
        managed,
      ),
    ).toEqual({
      apiVersion: 'kueue.x-k8s.io/v1beta1',
      kind: 'ResourceFlavor',
      metadata: { name: 'roam-gpu-nvidia-l4', labels: managed },
      spec: { nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } },
    });
    expect(resourceFlavor({ name: 'roam-tpu', nodeLabels: {} }, managed).spec).toEqual({});
  });
});
