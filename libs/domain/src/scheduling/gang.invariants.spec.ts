import { describe, expect, it } from '@jest/globals';

import { decide, type AdmissionDecision } from './admission.js';
import { jobTotal } from './gang.js';
import {
  compareStrings,
  freeOn,
  freePodSlots,
  GKE_ACCELERATOR_LABEL,
  GKE_SPOT_LABEL,
  isUsable,
  nodeAccepts,
  placementOrder,
  podOf,
} from './nodes.js';
import { fits, type Resources } from './resources.js';
import type { CapacityType, NodeState, PendingJob, PodSet, Snapshot } from './snapshot.js';
import { minutes } from './testing.js';

/*
 * Gangs have no oracle in `admission-reference.ts`, so they are checked by what must hold of
 * any decision, on random snapshots that mix gangs and single jobs of few shapes (so gang pods
 * and single jobs share first-fit cursors), flavors, pod slots, starving jobs and quotas:
 * every pod placed on a usable node that accepts it, with room for everything placed there
 * and not reserved for another job; a gang placed whole; and nothing that waits for capacity
 * fits in the room the cycle leaves (all or nothing gave back what a failed gang tried).
 */

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
const POD_SHAPES: Resources[] = [
  { cpuMillis: 1000, memoryBytes: GiB, gpu: 0 },
  { cpuMillis: 2000, memoryBytes: 4 * GiB, gpu: 0 },
  { cpuMillis: 4000, memoryBytes: 8 * GiB, gpu: 0 },
  { cpuMillis: 4000, memoryBytes: 16 * GiB, gpu: 1 },
  { cpuMillis: 8000, memoryBytes: 32 * GiB, gpu: 4 },
];
const TYPES = ['nvidia-l4', 'nvidia-h100-80gb'];

function randomSnapshot(seed: number): Snapshot {
  const rnd = random(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => rnd() < p;

  const tenants = Array.from({ length: 1 + int(3) }, (_, i) => ({
    id: `t${i}`,
    weight: 1 + int(2),
    limits: {
      cpuMillis: chance(0.3) ? 1000 * (4 + int(30)) : 1_000_000,
      memoryBytes: 1024 * GiB,
      gpu: chance(0.3) ? 4 + int(12) : 100,
      maxConcurrentJobs: chance(0.2) ? 1 + int(5) : 1000,
    },
    running: { count: 0, resources: { cpuMillis: 0, memoryBytes: 0, gpu: 0 } },
  }));
  const nodes: NodeState[] = Array.from({ length: 2 + int(10) }, (_, i) => {
    const type = chance(0.4) ? pick(TYPES) : undefined;
    const allocatable = type
      ? { cpuMillis: 32_000, memoryBytes: 128 * GiB, gpu: 8 }
      : { cpuMillis: 1000 * (4 + int(13)), memoryBytes: GiB * (8 + int(57)), gpu: 0 };
    const labels: Record<string, string> = {};
    if (type) labels[GKE_ACCELERATOR_LABEL] = type;
    if (chance(0.3)) labels[GKE_SPOT_LABEL] = 'true';
    return {
      name: `n${String(int(100)).padStart(2, '0')}-${i}`,
      allocatable,
      requested: {
        cpuMillis: Math.floor(allocatable.cpuMillis * rnd() * 0.8),
        memoryBytes: Math.floor(allocatable.memoryBytes * rnd() * 0.8),
        gpu: int(allocatable.gpu + 1),
      },
      ...(chance(0.3) ? { pods: { allocatable: 4, used: int(5) } } : {}),
      schedulable: !chance(0.1),
      ready: !chance(0.1),
      labels,
      taints: type ? [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' as const }] : [],
    };
  });
  const pending: PendingJob[] = Array.from({ length: 3 + int(25) }, (_, i) => {
    const podSets: PodSet[] | undefined = chance(0.4)
      ? Array.from({ length: 1 + int(3) }, (_, s) => ({
          name: `set${s}`,
          count: 1 + int(6),
          resources: { ...pick(POD_SHAPES) },
        }))
      : undefined;
    const job: PendingJob = {
      id: `j${String(i).padStart(2, '0')}`,
      tenantId: pick(tenants).id,
      priority: int(2),
      createdAt: minutes(chance(0.2) ? 0 : 10 + int(15)),
      resources: { ...pick(POD_SHAPES) },
      queue: 'default',
      offloadPreference: chance(0.2) ? 'allowed' : 'never',
    };
    if (podSets) job.podSets = podSets;
    if (chance(0.3)) job.gpuType = pick(TYPES);
    if (chance(0.3)) job.capacity = pick<CapacityType>(['spot', 'on-demand', 'any']);
    return job;
  });
  return { tenants, pending, nodes, now: minutes(30) };
}

/** The pods of a job as (pod, count) in placement order: a single job is one pod. */
function podsOf(job: PendingJob): { set: string; pod: PendingJob; count: number }[] {
  if (!job.podSets) return [{ set: '', pod: job, count: 1 }];
  return placementOrder(job.podSets).map((set) => ({
    set: set.name,
    pod: podOf(job, set),
    count: set.count,
  }));
}

/** Room per node after the decision's placements; checks each placement on the way. */
function roomAfter(s: Snapshot, d: AdmissionDecision): Map<string, NodeState> {
  const nodes = new Map(s.nodes.map((n) => [n.name, { ...n, requested: { ...n.requested } }]));
  const reservedFor = new Map(d.reservations.map((r) => [r.node, r.jobId]));
  const jobs = new Map(s.pending.map((j) => [j.id, j]));
  for (const a of d.admitted) {
    const job = jobs.get(a.jobId) as PendingJob;
    const sets = podsOf(job);
    const placements = a.placements ?? [{ podSet: '', node: a.node, count: 1 }];
    for (const { set, pod, count } of sets) {
      const mine = placements.filter((p) => p.podSet === set);
      expect(mine.reduce((n, p) => n + p.count, 0)).toBe(count);
      for (const p of mine) {
        const node = nodes.get(p.node) as NodeState;
        expect(isUsable(node)).toBe(true);
        expect(nodeAccepts(pod, node)).toBe(true);
        // Starving jobs are admitted between reservations; fair share after them all.
        if (!a.starving) expect([undefined, a.jobId]).toContain(reservedFor.get(p.node));
        for (let k = 0; k < p.count; k++) {
          expect(fits(pod.resources, freeOn(node))).toBe(true);
          expect(freePodSlots(node)).toBeGreaterThanOrEqual(1);
          node.requested.cpuMillis += pod.resources.cpuMillis;
          node.requested.memoryBytes += pod.resources.memoryBytes;
          node.requested.gpu += pod.resources.gpu;
          if (node.pods) node.pods = { ...node.pods, used: node.pods.used + 1 };
        }
      }
    }
  }
  return nodes;
}

/** First-fit of every pod of the job on `nodes` (usable, by name, not reserved for others). */
function fitsNow(job: PendingJob, nodes: NodeState[], reservedFor: Map<string, string>): boolean {
  const room = nodes
    .filter((n) => isUsable(n) && [undefined, job.id].includes(reservedFor.get(n.name)))
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((n) => ({ ...n, requested: { ...n.requested } }));
  for (const { pod, count } of podsOf(job)) {
    for (let k = 0; k < count; k++) {
      const node = room.find(
        (n) => nodeAccepts(pod, n) && fits(pod.resources, freeOn(n)) && freePodSlots(n) >= 1,
      );
      if (!node) return false;
      node.requested.cpuMillis += pod.resources.cpuMillis;
      node.requested.memoryBytes += pod.resources.memoryBytes;
      node.requested.gpu += pod.resources.gpu;
      if (node.pods) node.pods = { ...node.pods, used: node.pods.used + 1 };
    }
  }
  return true;
}

describe('decide with gangs: invariants on random snapshots', () => {
  it('places whole gangs within room and leaves no capacity-blocked job that fits', () => {
    let gangsAdmitted = 0;
    let gangsWaiting = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const s = randomSnapshot(seed);
      const d = decide(s, { starvationThresholdMs: 10 * 60_000 });
      const room = [...roomAfter(s, d).values()];
      const reservedFor = new Map(d.reservations.map((r) => [r.node, r.jobId]));
      const jobs = new Map(s.pending.map((j) => [j.id, j]));
      for (const w of d.waiting) {
        const job = jobs.get(w.jobId) as PendingJob;
        if (job.podSets) gangsWaiting += 1;
        if (w.reason !== 'InsufficientCapacity') continue;
        expect({ seed, job: w.jobId, fits: fitsNow(job, room, reservedFor) }).toEqual({
          seed,
          job: w.jobId,
          fits: false,
        });
      }
      gangsAdmitted += d.admitted.filter((a) => a.placements).length;
      // Quota: what each tenant was admitted stays within its limits.
      for (const t of s.tenants) {
        const used = d.admitted
          .filter((a) => a.tenantId === t.id)
          .map((a) => jobTotal(jobs.get(a.jobId) as PendingJob))
          .reduce((sum, r) => sum + r.cpuMillis, 0);
        expect(used).toBeLessThanOrEqual(t.limits.cpuMillis);
      }
    }
    // The snapshots exercise both outcomes.
    expect(gangsAdmitted).toBeGreaterThan(100);
    expect(gangsWaiting).toBeGreaterThan(100);
  });
});
