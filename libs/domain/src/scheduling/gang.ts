import { neverFits, type NeverFitsReason } from './never-fits.js';
import {
  compareStrings,
  deficit,
  nodeAccepts,
  placementOrder,
  podOf,
  type JobPlacement,
} from './nodes.js';
import { formatResources, RESOURCE_NAMES, type Resources } from './resources.js';
import type { NodeState, PendingJob, PodSet } from './snapshot.js';
import { poolOf, slicesNeverFit } from './tpu.js';

/*
 * Gangs (docs/scheduling.md#gangs): a job with pod sets is admitted only when every one of its
 * pods is placed in the same cycle. These are the pure pieces `decide()` builds on: the gang's
 * total, the order its pods are placed in, the all-or-nothing placement onto the cycle's room,
 * and the "can it ever fit" check against the whole cluster.
 */

/** True when the job is a gang: it names its pods in pod sets. */
export function isGang(job: Pick<PendingJob, 'podSets'>): boolean {
  return job.podSets !== undefined && job.podSets.some((set) => set.count > 0);
}

/** Pods of the gang, all sets together. */
export function gangPods(job: Pick<PendingJob, 'podSets'>): number {
  return (job.podSets ?? []).reduce((n, set) => n + set.count, 0);
}

/**
 * What the job asks of its tenant's quota: the sum over every pod of every set for a gang, its
 * `resources` otherwise.
 */
export function jobTotal(job: Pick<PendingJob, 'resources' | 'podSets'>): Resources {
  if (!isGang(job)) return job.resources;
  const total: Resources = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };
  for (const set of job.podSets ?? []) {
    total.cpuMillis += set.count * set.resources.cpuMillis;
    total.memoryBytes += set.count * set.resources.memoryBytes;
    total.gpu += set.count * set.resources.gpu;
    if (set.resources.tpu !== undefined)
      total.tpu = (total.tpu ?? 0) + set.count * set.resources.tpu;
  }
  return total;
}

/** "gang of 16 pods (4 × driver: 1 CPU, 2Gi memory; 12 × workers: 8 CPU, 64Gi memory, 8 GPUs)" */
export function describeGang(job: Pick<PendingJob, 'podSets'>): string {
  const sets = (job.podSets ?? []).filter((s) => s.count > 0);
  return `gang of ${gangPods(job)} pods (${sets
    .map((s) => `${s.count} × ${s.name}: ${formatResources(s.resources)}`)
    .join('; ')})`;
}

/**
 * The room of the cycle's usable nodes (index i = the i-th usable node by name), which
 * `decide()` owns and updates as it admits; a gang's pods take from it and give back.
 */
export interface Room {
  readonly usable: readonly NodeState[];
  readonly freeCpu: Float64Array;
  readonly freeMemory: Float64Array;
  readonly freeGpu: Float64Array;
  /** TPU chips (`google.com/tpu`); 0 on a node without them. */
  readonly freeTpu: Float64Array;
  readonly slots: Float64Array;
  /** The job id a node is reserved for (a starving job), if any. */
  reservedFor(i: number): string | undefined;
  /** Accept nodes whose only objection is a condition taint ("can it ever fit"). */
  readonly ignoreConditionTaints?: boolean;
}

/** One set of a gang to place: its pod, and where first-fit may start for that pod. */
export interface SetToPlace {
  set: PodSet;
  pod: JobPlacement;
  /** Nodes before this index are known to refuse the pod (the shape's cursor, see admission). */
  from: number;
}

export interface GangTrial {
  /** Every pod was placed. */
  complete: boolean;
  /** Per set (in `sets` order): the usable-node index of each pod placed. */
  nodes: number[][];
  /** Per set: the index first-fit stopped at (nodes before it refused the pod). */
  reached: number[];
}

/**
 * Places the gang's pods first-fit (per set, usable nodes by name from `from`), taking room as
 * it goes, so the second pod sees what the first took. `partial`: keep placing the other sets
 * after a pod that fits nowhere, to count the room there is (explain); otherwise stop there.
 * The room is given back unless `keep` and every pod was placed: all or nothing.
 */
export function tryGang(
  room: Room,
  jobId: string,
  sets: readonly SetToPlace[],
  opts: { keep: boolean; partial?: boolean },
): GangTrial {
  const n = room.usable.length;
  const trial: GangTrial = { complete: true, nodes: [], reached: [] };
  // Pools holding one of this gang's TPU slices: a slice takes a pool of its own.
  let pools: Set<string> | undefined;
  for (const { set, pod, from } of sets) {
    const r = pod.resources;
    const placed: number[] = [];
    let i = from;
    if (set.slices !== undefined && set.slices > 0) {
      pools ??= new Set();
      placeSlices(room, jobId, set, pod, from, pools, placed);
    } else {
      // Inline first-fit (not `fitFrom`): this loop is admission's hot path for gangs.
      while (placed.length < set.count) {
        for (; i < n; i++) {
          const reserved = room.reservedFor(i);
          if (reserved !== undefined && reserved !== jobId) continue;
          if (
            (room.slots[i] as number) >= 1 &&
            r.cpuMillis <= (room.freeCpu[i] as number) &&
            r.memoryBytes <= (room.freeMemory[i] as number) &&
            r.gpu <= (room.freeGpu[i] as number) &&
            (r.tpu === undefined || r.tpu <= (room.freeTpu[i] as number)) &&
            nodeAccepts(pod, room.usable[i] as NodeState, room)
          )
            break;
        }
        if (i >= n) break;
        take(room, i, r, 1);
        placed.push(i);
      }
    }
    trial.nodes.push(placed);
    trial.reached.push(i);
    if (placed.length < set.count) {
      trial.complete = false;
      if (!opts.partial) break;
    }
  }
  if (!opts.keep || !trial.complete) {
    trial.nodes.forEach((placed, s) => {
      const r = (sets[s] as SetToPlace).pod.resources;
      for (const i of placed) take(room, i, r, -1);
    });
  }
  return trial;
}

/**
 * The first usable node from `i` (of `pool` when given) with room for `pod` now, not reserved
 * for another job; `room.usable.length` when there is none.
 */
function fitFrom(
  room: Room,
  jobId: string,
  pod: JobPlacement,
  i: number,
  pool: string | undefined,
): number {
  const n = room.usable.length;
  const r = pod.resources;
  for (; i < n; i++) {
    const reserved = room.reservedFor(i);
    if (reserved !== undefined && reserved !== jobId) continue;
    if (
      (room.slots[i] as number) >= 1 &&
      r.cpuMillis <= (room.freeCpu[i] as number) &&
      r.memoryBytes <= (room.freeMemory[i] as number) &&
      r.gpu <= (room.freeGpu[i] as number) &&
      (r.tpu === undefined || r.tpu <= (room.freeTpu[i] as number)) &&
      (pool === undefined || poolOf(room.usable[i] as NodeState) === pool) &&
      nodeAccepts(pod, room.usable[i] as NodeState, room)
    )
      return i;
  }
  return n;
}

/**
 * Places a set of TPU slices (`PodSet.slices`) slice by slice, each slice's hosts first-fit on
 * the nodes of ONE node pool, the first pool (by its first node with room, from `from`) not
 * already holding a slice of this gang (`pools`) that has room for all of them: a slice's hosts
 * talk over the pool's interconnect, so a slice is never split across pools, and two slices
 * never share one (docs/scheduling.md#flavors). A pool that cannot hold the slice gives back
 * what it took and the next is tried. Pushes the node of every pod placed onto `placed`, slice
 * after slice, and adds each pool taken to `pools`; stops at the first slice no pool holds.
 */
function placeSlices(
  room: Room,
  jobId: string,
  set: PodSet,
  pod: JobPlacement,
  from: number,
  pools: Set<string>,
  placed: number[],
): void {
  const n = room.usable.length;
  const slices = set.slices as number;
  const hosts = Math.ceil(set.count / slices);
  for (let s = 0; s < slices && placed.length < set.count; s++) {
    const want = Math.min(hosts, set.count - placed.length);
    const tried = new Set<string>();
    let done = false;
    for (let start = fitFrom(room, jobId, pod, from, undefined); start < n && !done;) {
      const pool = poolOf(room.usable[start] as NodeState);
      if (!pools.has(pool) && !tried.has(pool)) {
        tried.add(pool);
        const slice: number[] = [];
        for (let i = start; slice.length < want; i++) {
          i = fitFrom(room, jobId, pod, i, pool);
          if (i >= n) break;
          take(room, i, pod.resources, 1);
          slice.push(i);
        }
        if (slice.length === want) {
          pools.add(pool);
          placed.push(...slice);
          done = true;
        } else {
          for (const i of slice) take(room, i, pod.resources, -1);
        }
      }
      if (!done) start = fitFrom(room, jobId, pod, start + 1, undefined);
    }
    if (!done) return;
  }
}

/** Takes (`sign` 1) or gives back (-1) one pod's requests and slot on usable node `i`. */
function take(room: Room, i: number, r: Resources, sign: 1 | -1): void {
  room.freeCpu[i] = (room.freeCpu[i] as number) - sign * r.cpuMillis;
  room.freeMemory[i] = (room.freeMemory[i] as number) - sign * r.memoryBytes;
  room.freeGpu[i] = (room.freeGpu[i] as number) - sign * r.gpu;
  if (r.tpu !== undefined) room.freeTpu[i] = (room.freeTpu[i] as number) - sign * r.tpu;
  room.slots[i] = (room.slots[i] as number) - sign;
}

/**
 * The nodes a starving gang reserves: for each set (placement order), the unreserved usable
 * nodes that accept its pod, closest to fitting it first (least to drain, as for a single job),
 * until those nodes, once drained, hold every pod of the set; a node serves one set. Empty when
 * the usable nodes cannot hold the gang even drained (then reserving would hold nodes for
 * nothing).
 */
export function gangReservation(
  room: Room,
  sets: readonly SetToPlace[],
  scratch: Resources,
): number[] {
  const taken = new Set<number>();
  for (const { set, pod } of sets) {
    const r = pod.resources;
    const candidates: { i: number; deficit: number; holds: number }[] = [];
    room.usable.forEach((node, i) => {
      if (taken.has(i) || room.reservedFor(i) !== undefined || !nodeAccepts(pod, node)) return;
      const holds = podsThatFit(r, node.allocatable, node.pods?.allocatable ?? Infinity);
      if (holds === 0) return;
      scratch.cpuMillis = room.freeCpu[i] as number;
      scratch.memoryBytes = room.freeMemory[i] as number;
      scratch.gpu = room.freeGpu[i] as number;
      const slots = node.pods
        ? { free: room.slots[i] as number, allocatable: node.pods.allocatable }
        : undefined;
      candidates.push({ i, holds, deficit: deficit(r, scratch, node.allocatable, slots) });
    });
    candidates.sort((a, b) => a.deficit - b.deficit || a.i - b.i);
    let held = 0;
    for (const c of candidates) {
      if (held >= set.count) break;
      taken.add(c.i);
      held += c.holds;
    }
    if (held < set.count) return [];
  }
  return [...taken].sort((a, b) => a - b);
}

/** How many pods of `pod` fit in `room` with `slots` pod slots. */
function podsThatFit(pod: Resources, room: Resources, slots: number): number {
  let n = slots;
  for (const r of RESOURCE_NAMES) {
    if (pod[r] > 0) n = Math.min(n, Math.floor(room[r] / pod[r]));
  }
  return Number.isFinite(n) ? n : 0;
}

/**
 * Why the gang's pods can never all run on this cluster, whatever finishes: a pod no node
 * could ever hold (the single-job reasons, naming the set), or the whole cluster emptied of
 * everything (cordoned and NotReady nodes included, as for a single job) not holding every pod
 * by the same first-fit `decide()` uses. Empty when it may fit; nothing when there are no nodes.
 */
export function gangNeverFits(job: PendingJob, nodes: readonly NodeState[]): NeverFitsReason[] {
  if (nodes.length === 0) return [];
  const unlimited = {
    cpuMillis: Infinity,
    memoryBytes: Infinity,
    gpu: Infinity,
    maxConcurrentJobs: Infinity,
  };
  const sets = placementOrder(job.podSets ?? []);
  const reasons = sets.flatMap((set) => [
    ...podReasons(set, neverFits(set.resources, unlimited, nodes, podOf(job, set))),
    ...slicesNeverFit(podOf(job, set), set, nodes),
  ]);
  if (reasons.length > 0) return reasons;
  return gangPackingNeverFits(
    job,
    sets.map((set) => ({ set, pod: podOf(job, set), from: 0 })),
    emptyCluster(nodes),
  );
}

/** A pod's never-fits reasons, naming its set. */
export function podReasons(set: PodSet, reasons: readonly NeverFitsReason[]): NeverFitsReason[] {
  return reasons.map((reason) => ({ ...reason, message: `a ${set.name} pod ${reason.message}` }));
}

/**
 * Every node (cordoned and NotReady included) with nothing on it, by name: the room a gang is
 * packed into to know whether it can ever fit. `tryGang` without `keep` gives back what it
 * takes, so one serves every gang of a cycle.
 */
export function emptyCluster(nodes: readonly NodeState[]): Room {
  const sorted = [...nodes].sort((a, b) => compareStrings(a.name, b.name));
  return {
    usable: sorted,
    freeCpu: Float64Array.from(sorted, (n) => n.allocatable.cpuMillis),
    freeMemory: Float64Array.from(sorted, (n) => n.allocatable.memoryBytes),
    freeGpu: Float64Array.from(sorted, (n) => n.allocatable.gpu),
    freeTpu: Float64Array.from(sorted, (n) => n.allocatable.tpu ?? 0),
    slots: Float64Array.from(sorted, (n) => n.pods?.allocatable ?? Infinity),
    reservedFor: () => undefined,
    ignoreConditionTaints: true,
  };
}

/** The gang does not fit on `empty` (`emptyCluster`) by first-fit: why, with the room there is. */
export function gangPackingNeverFits(
  job: PendingJob,
  sets: readonly SetToPlace[],
  empty: Room,
): NeverFitsReason[] {
  const trial = tryGang(empty, job.id, sets, { keep: false, partial: true });
  if (trial.complete) return [];
  return [
    {
      kind: 'noSingleNode',
      requested: jobTotal(job),
      message: `the ${describeGang(job)} does not fit even on the whole cluster emptied: ${roomFor(
        sets.map(({ set }, s) => ({
          name: set.name,
          count: set.count,
          room: trial.nodes[s]?.length ?? 0,
        })),
      )}`,
    },
  ];
}

/** "room for 9 of 12 workers and 0 of 4 driver", for the sets not fully placed. */
export function roomFor(sets: readonly { name: string; count: number; room: number }[]): string {
  return sets
    .filter(({ count, room }) => room < count)
    .map(({ name, count, room }) => `room for ${room} of ${count} ${name}`)
    .join(' and ');
}
