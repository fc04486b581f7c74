import { describe, expect, it } from '@jest/globals';

import { assignQuota, type PendingWorkload, type QueueSnapshot, type Usage } from './queueing.js';

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
