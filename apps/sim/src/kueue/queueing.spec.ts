import { describe, expect, it } from '@jest/globals';

import {
  assignQuota,
  type PendingWorkload,
  type QueueSnapshot,
  type ReservedWorkload,
  type Usage,
} from './queueing.js';

const queue = (
  name: string,
  cpu: string,
  extra: Partial<QueueSnapshot> = {},
  borrowingLimit?: string,
): QueueSnapshot => ({
  name,
  strategy: 'BestEffortFIFO',
  resourceGroups: [
    {
      coveredResources: ['cpu'],
      flavors: [
        {
          name: 'default',
          resources: [
            { name: 'cpu', nominalQuota: cpu, ...(borrowingLimit ? { borrowingLimit } : {}) },
          ],
        },
      ],
    },
  ],
  ...extra,
});

let clock = 0;
const wl = (key: string, clusterQueue: string, cpu: number, priority = 0): PendingWorkload => ({
  key,
  clusterQueue,
  priority,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(),
  requests: { cpu },
});

const using = (cq: string, cpu: number): Map<string, Usage> =>
  new Map([[cq, new Map([['default', new Map([['cpu', cpu]])]])]]);

describe('assignQuota', () => {
  it('admits within nominal quota and leaves the rest pending with the missing amount', () => {
    const d = assignQuota([queue('a', '2')], new Map(), [wl('w1', 'a', 1.5), wl('w2', 'a', 1)]);
    expect(d.admitted.map((a) => a.key)).toEqual(['w1']);
    expect(d.admitted[0]?.flavors).toEqual({ cpu: 'default' });
    expect(d.waiting.get('w2')).toBe(
      "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default, 500m more needed",
    );
    expect(d.order.get('a')).toEqual(['w2']);
  });

  it('admits a workload of many pod sets whole or not at all, naming the pod set that does not fit', () => {
    const gang = (key: string, driver: number, workers: number): PendingWorkload => ({
      ...wl(key, 'a', driver + workers),
      podSets: [
        { name: 'driver', requests: { cpu: driver } },
        { name: 'workers', requests: { cpu: workers } },
      ],
    });
    const d = assignQuota([queue('a', '4')], using('a', 1), [gang('g1', 1, 2), gang('g2', 1, 2)]);
    expect(d.admitted.map((a) => a.key)).toEqual(['g1']);
    // g1 leaves 0 CPU: g2's driver already does not fit, and nothing of g2 is reserved.
    expect(d.waiting.get('g2')).toBe(
      "couldn't assign flavors to pod set driver: insufficient unused quota for cpu in flavor default, 1 more needed",
    );
    const later = assignQuota([queue('a', '4')], using('a', 2), [gang('g3', 1, 2)]);
    expect(later.waiting.get('g3')).toBe(
      "couldn't assign flavors to pod set workers: insufficient unused quota for cpu in flavor default, 1 more needed",
    );
  });

  it('says a workload larger than the queue could ever hold exceeds its maximum capacity', () => {
    const d = assignQuota([queue('a', '2')], new Map(), [
      { ...wl('big', 'a', 3), podSets: [{ name: 'workers', requests: { cpu: 3 } }] },
    ]);
    expect(d.waiting.get('big')).toBe(
      "couldn't assign flavors to pod set workers: insufficient quota for cpu in flavor default, request > maximum capacity (3 > 2)",
    );
    // In a cohort, the maximum is the quota plus what it may borrow.
    const cohort = { cohort: 'shared' };
    const shared = assignQuota(
      [queue('a', '1', cohort, '1'), queue('b', '4', cohort)],
      using('b', 4),
      [wl('w', 'a', 3)],
    );
    expect(shared.waiting.get('w')).toBe(
      "couldn't assign flavors to pod set main: insufficient quota for cpu in flavor default, request > maximum capacity (3 > 2)",
    );
  });

  it('borrows what the cohort leaves unused, up to the borrowing limit', () => {
    const cohort = { cohort: 'shared' };
    const free = assignQuota([queue('a', '1', cohort), queue('b', '3', cohort)], using('b', 1), [
      wl('w', 'a', 3),
    ]);
    expect(free.admitted.map((a) => a.key)).toEqual(['w']);
    const limited = assignQuota(
      [queue('a', '1', cohort, '1'), queue('b', '3', cohort)],
      new Map(),
      [wl('w', 'a', 3)],
    );
    expect(limited.admitted).toEqual([]);
    const alone = assignQuota([queue('a', '1'), queue('b', '3')], new Map(), [wl('w', 'a', 3)]);
    expect(alone.admitted).toEqual([]);
  });

  it('lets a smaller workload past a blocked one under BestEffortFIFO, not under StrictFIFO', () => {
    const best = assignQuota([queue('q', '2')], new Map(), [
      wl('big', 'q', 3),
      wl('small', 'q', 1),
    ]);
    expect(best.admitted.map((a) => a.key)).toEqual(['small']);
    const strict = assignQuota([queue('q', '2', { strategy: 'StrictFIFO' })], new Map(), [
      wl('big2', 'q', 3),
      wl('small2', 'q', 1),
    ]);
    expect(strict.admitted).toEqual([]);
    expect(strict.waiting.get('small2')).toMatch(/StrictFIFO: waiting for the older workload big2/);
    expect(strict.order.get('q')).toEqual(['big2', 'small2']);
  });

  it('takes higher priority first, then the oldest', () => {
    const d = assignQuota([queue('q', '1')], new Map(), [
      wl('old', 'q', 1),
      wl('urgent', 'q', 1, 10),
    ]);
    expect(d.admitted.map((a) => a.key)).toEqual(['urgent']);
  });

  it('refuses a resource no resource group covers', () => {
    const d = assignQuota([queue('q', '4')], new Map(), [
      { ...wl('gpu', 'q', 1), requests: { cpu: 1, 'nvidia.com/gpu': 1 } },
    ]);
    expect(d.waiting.get('gpu')).toMatch(/resource nvidia.com\/gpu unavailable in ClusterQueue/);
  });
});

describe('assignQuota: preemption', () => {
  const reserved = (
    key: string,
    clusterQueue: string,
    cpu: number,
    priority = 0,
  ): ReservedWorkload => ({
    key,
    clusterQueue,
    priority,
    createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, clock++)).toISOString(),
    flavors: { cpu: 'default' },
    usage: { cpu },
  });

  it('evicts lower-priority workloads of its own ClusterQueue, lowest first, when withinClusterQueue allows', () => {
    const q = queue('a', '2', { preemption: { withinClusterQueue: 'LowerPriority' } });
    const held = [reserved('low', 'a', 1, 1), reserved('lowest', 'a', 1, 0)];
    const d = assignQuota([q], using('a', 2), [wl('urgent', 'a', 1, 5)], held);
    expect(d.preempted).toEqual([{ key: 'lowest', by: 'urgent', reason: 'InClusterQueue' }]);
    expect(d.admitted).toEqual([]);
    expect(d.waiting.get('urgent')).toBe('Pending: preempting 1 workload(s) to fit');
  });

  it('never preempts equal priority, nor without a policy', () => {
    const held = [reserved('same', 'a', 2, 5)];
    const lower = queue('a', '2', { preemption: { withinClusterQueue: 'LowerPriority' } });
    expect(assignQuota([lower], using('a', 2), [wl('w', 'a', 1, 5)], held).preempted).toEqual([]);
    expect(
      assignQuota([queue('a', '2')], using('a', 2), [wl('w', 'a', 1, 9)], [reserved('x', 'a', 2)])
        .preempted,
    ).toEqual([]);
  });

  it('reclaims quota a cohort member borrowed, when reclaimWithinCohort allows', () => {
    const a = queue('a', '2', { cohort: 'c', preemption: { reclaimWithinCohort: 'Any' } });
    const b = queue('b', '2', { cohort: 'c' });
    const usage: Map<string, Usage> = new Map([
      ['b', new Map([['default', new Map([['cpu', 4]])]])],
    ]);
    const held = [reserved('b1', 'b', 2), reserved('b2', 'b', 2)];
    const d = assignQuota([a, b], usage, [wl('mine', 'a', 2)], held);
    expect(d.preempted).toEqual([{ key: 'b2', by: 'mine', reason: 'InCohortReclamation' }]);
  });

  it('preempts nothing when even evicting every candidate would not make it fit', () => {
    const q = queue('a', '2', { preemption: { withinClusterQueue: 'LowerPriority' } });
    const d = assignQuota([q], using('a', 2), [wl('big', 'a', 3, 5)], [reserved('l', 'a', 2)]);
    expect(d.preempted).toEqual([]);
  });

  it('reclaims nothing for a workload that would itself borrow (beyond its nominal quota)', () => {
    const a = queue('a', '2', { cohort: 'c', preemption: { reclaimWithinCohort: 'Any' } });
    const b = queue('b', '2', { cohort: 'c' });
    const inUse = new Map([
      ['a', new Map([['default', new Map([['cpu', 1]])]])],
      ['b', new Map([['default', new Map([['cpu', 3]])]])],
    ]);
    const d = assignQuota([a, b], inUse, [wl('w', 'a', 2)], [reserved('b1', 'b', 3)]);
    expect(d.preempted).toEqual([]);
  });
});

describe('assignQuota: borrowing comes last', () => {
  it("gives a lender's own workload its idle quota before another queue's borrower", () => {
    // 'a' sorts first, but its workload would borrow b's idle 2 CPU, which b's own one needs.
    const a = queue('a', '2', { cohort: 'c' });
    const b = queue('b', '2', { cohort: 'c' });
    const d = assignQuota([a, b], using('a', 2), [wl('borrower', 'a', 2), wl('own', 'b', 2)]);
    expect(d.admitted.map((x) => x.key)).toEqual(['own']);
    expect(d.waiting.get('borrower')).toMatch(/insufficient unused quota for cpu/);
    expect(d.order.get('a')).toEqual(['borrower']);
  });

  it('still lends what is idle once the lenders are served', () => {
    const a = queue('a', '2', { cohort: 'c' });
    const b = queue('b', '2', { cohort: 'c' });
    const d = assignQuota([a, b], using('a', 2), [wl('borrower', 'a', 2)]);
    expect(d.admitted.map((x) => x.key)).toEqual(['borrower']);
    expect(d.order.get('a')).toEqual([]);
  });
});

describe('assignQuota: flavors by node labels', () => {
  const gpuQueue: QueueSnapshot = {
    name: 'g',
    strategy: 'BestEffortFIFO',
    resourceGroups: [
      {
        coveredResources: ['nvidia.com/gpu'],
        flavors: [
          {
            name: 'roam-gpu-nvidia-h100',
            resources: [{ name: 'nvidia.com/gpu', nominalQuota: '1' }],
          },
          {
            name: 'roam-gpu-nvidia-l4',
            resources: [{ name: 'nvidia.com/gpu', nominalQuota: '2' }],
          },
        ],
      },
    ],
    flavorLabels: {
      'roam-gpu-nvidia-h100': { 'cloud.google.com/gke-accelerator': 'nvidia-h100' },
      'roam-gpu-nvidia-l4': { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
    },
  };
  const gpuJob = (key: string, gpus: number, type?: string): PendingWorkload => ({
    key,
    clusterQueue: 'g',
    priority: 0,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(),
    requests: { 'nvidia.com/gpu': gpus },
    podSets: [
      {
        name: 'main',
        requests: { 'nvidia.com/gpu': gpus },
        ...(type ? { nodeSelector: { 'cloud.google.com/gke-accelerator': type } } : {}),
      },
    ],
  });

  it.each([
    // jobs in order, and each one's flavor (or undefined: waits)
    [[['l1', 1, 'nvidia-l4']], ['roam-gpu-nvidia-l4']],
    [[['h1', 1, 'nvidia-h100']], ['roam-gpu-nvidia-h100']],
    // an untyped GPU job takes the first flavor with room
    [
      [
        ['u1', 1, undefined],
        ['u2', 1, undefined],
      ],
      ['roam-gpu-nvidia-h100', 'roam-gpu-nvidia-l4'],
    ],
    // a typed job never spills into another type's flavor when its own is full
    [
      [
        ['l1', 2, 'nvidia-l4'],
        ['l2', 1, 'nvidia-l4'],
      ],
      ['roam-gpu-nvidia-l4', undefined],
    ],
    [[['x', 1, 'nvidia-a100']], [undefined]],
  ] as [[string, number, string | undefined][], (string | undefined)[]][])(
    'assigns %j the flavors %j',
    (jobs, flavors) => {
      const d = assignQuota(
        [gpuQueue],
        new Map(),
        jobs.map(([key, n, type]) => gpuJob(key, n, type)),
      );
      const byKey = new Map(d.admitted.map((a) => [a.key, a.flavors['nvidia.com/gpu']]));
      expect(jobs.map(([key]) => byKey.get(key))).toEqual(flavors);
    },
  );

  it("says which flavor does not match a pod's accelerator type", () => {
    const d = assignQuota([gpuQueue], new Map(), [gpuJob('x', 1, 'nvidia-a100')]);
    expect(d.waiting.get('x')).toBe(
      "couldn't assign flavors to pod set main: flavor roam-gpu-nvidia-h100 doesn't match node affinity",
    );
  });
});
