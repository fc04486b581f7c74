import { describe, expect, it } from '@jest/globals';

import { decide } from './admission.js';
import { decideReference } from './admission-reference.js';
import type {
  NodeState,
  PendingJob,
  Snapshot,
  Taint,
  TenantState,
  Toleration,
} from './snapshot.js';
import { minutes } from './testing.js';

/*
 * The fast `decide()` against the straightforward implementation it replaced, on random
 * snapshots built to hit every rule at once: tight quotas and concurrency limits, weights,
 * starving jobs and reservations, full pod slots, cordoned/NotReady/tainted nodes, selectors,
 * tolerations, offload preferences, unknown tenants, and few shapes so that jobs share them.
 */

/** mulberry32: a seeded generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GiB = 2 ** 30;

function randomSnapshot(seed: number, scale = 1): Snapshot {
  const rnd = random(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => rnd() < p;

  const tenants: TenantState[] = Array.from({ length: 1 + int(5) }, (_, i) => ({
    id: `t${i}`,
    weight: pick([1, 1, 2, 3, 0]),
    limits: {
      cpuMillis: chance(0.4) ? 1000 * (1 + int(12)) : 1_000_000,
      memoryBytes: chance(0.2) ? GiB * (2 + int(30)) : 1024 * GiB,
      gpu: chance(0.3) ? int(4) : 100,
      maxConcurrentJobs: chance(0.3) ? int(8) : 1000,
    },
    running: chance(0.5)
      ? {
          count: int(4),
          resources: { cpuMillis: 1000 * int(6), memoryBytes: GiB * int(8), gpu: int(2) },
        }
      : { count: 0, resources: { cpuMillis: 0, memoryBytes: 0, gpu: 0 } },
  }));

  const taints: Taint[][] = [
    [],
    [],
    [],
    [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
    [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }],
    [{ key: 'spot', effect: 'PreferNoSchedule' }],
    [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }],
  ];
  const nodes: NodeState[] = Array.from({ length: int(12 * scale) }, (_, i) => {
    const gpu = chance(0.3) ? pick([1, 4, 8]) : 0;
    const allocatable = {
      cpuMillis: 1000 * pick([2, 4, 8, 16]),
      memoryBytes: GiB * pick([4, 16, 32]),
      gpu,
    };
    const node: NodeState = {
      name: `n${String(int(1000)).padStart(3, '0')}-${i}`,
      allocatable,
      requested: {
        cpuMillis: Math.floor(allocatable.cpuMillis * rnd()),
        memoryBytes: Math.floor(allocatable.memoryBytes * rnd() * 0.8),
        gpu: int(gpu + 1),
      },
      schedulable: !chance(0.1),
      ready: !chance(0.1),
      labels: chance(0.3) ? { zone: pick(['a', 'b']) } : {},
      taints: gpu > 0 && chance(0.7) ? (taints[3] as Taint[]) : pick(taints),
    };
    if (chance(0.5)) {
      const podsAllocatable = pick([0, 2, 4, 110]);
      node.pods = { allocatable: podsAllocatable, used: int(podsAllocatable + 2) };
    }
    return node;
  });

  const shapes = Array.from({ length: 1 + int(6) }, () => ({
    cpuMillis: pick([0, 100, 500, 1000, 2000, 4000, 12000]),
    memoryBytes: pick([0, GiB / 2, GiB, 4 * GiB, 40 * GiB]),
    gpu: chance(0.25) ? pick([1, 2, 8]) : 0,
  }));
  const tolerations: Toleration[][] = [
    [{ key: 'dedicated', operator: 'Exists' }],
    [{ key: 'dedicated', value: 'infra' }],
    [{ operator: 'Exists' }],
  ];
  const pending: PendingJob[] = Array.from({ length: int(60 * scale) }, (_, i) => {
    const job: PendingJob = {
      id: `j${String(int(100_000)).padStart(5, '0')}-${i}`,
      tenantId: chance(0.03) ? 'ghost' : `t${int(tenants.length)}`,
      priority: chance(0.2) ? pick([-5, 5, 100]) : 0,
      // Some at the very same instant, some long past the starvation threshold.
      createdAt: minutes(chance(0.2) ? 0 : -int(40)),
      resources: { ...pick(shapes) },
      queue: 'default',
      offloadPreference: pick(['never', 'never', 'allowed', 'required'] as const),
    };
    if (chance(0.1)) job.nodeSelector = { zone: pick(['a', 'b', 'c']) };
    if (chance(0.1)) job.tolerations = pick(tolerations);
    return job;
  });
  return { tenants, pending, nodes, now: minutes(0) };
}

describe('decide() is the same decision as the reference implementation', () => {
  it('on 400 random snapshots', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const snap = randomSnapshot(seed);
      const threshold = (seed % 4) * 5 * 60_000;
      const options = { starvationThresholdMs: threshold };
      const fast = decide(snap, options);
      // A failure names the seed, so it can be replayed.
      expect({ seed, decision: fast }).toStrictEqual({
        seed,
        decision: decideReference(snap, options),
      });
    }
  });

  it('on larger snapshots, where cursors and heaps have room to go wrong', () => {
    for (let seed = 1001; seed <= 1006; seed++) {
      const snap = randomSnapshot(seed, 40);
      expect({ seed, decision: decide(snap) }).toStrictEqual({
        seed,
        decision: decideReference(snap),
      });
    }
  });

  it('exercises the rules it compares', () => {
    // Guards the generator: if it stopped producing these, the comparison above would be empty.
    const reasons = new Set<string>();
    let admitted = 0;
    let reservations = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const d = decide(randomSnapshot(seed), { starvationThresholdMs: (seed % 4) * 5 * 60_000 });
      admitted += d.admitted.length;
      reservations += d.reservations.length;
      for (const w of d.waiting) reasons.add(w.reason);
    }
    expect(admitted).toBeGreaterThan(1000);
    expect(reservations).toBeGreaterThan(10);
    expect([...reasons].sort()).toEqual([
      'ConcurrencyLimit',
      'InsufficientCapacity',
      'Offload',
      'UnknownTenant',
      'Unschedulable',
      'WaitingForOlderJob',
      'WaitingForQuota',
    ]);
  });
});
