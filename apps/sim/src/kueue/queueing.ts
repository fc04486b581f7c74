// Kueue's quota decision, as a pure function over a snapshot: for each ClusterQueue, its
// pending workloads in order (priority, then age) get the first flavor of each resource group
// whose nominal quota, plus what the cohort leaves unused (up to the borrowing limit), covers
// them. StrictFIFO stops a queue at the first workload that does not fit; BestEffortFIFO lets
// later, smaller ones past it. A workload that does not fit may preempt, as the queue's
// `preemption` allows: admitted workloads of lower priority in its own ClusterQueue
// (`withinClusterQueue`), and workloads of cohort members that borrow (`reclaimWithinCohort`).
// It waits for them to be evicted (their quota is released) and is admitted in a later pass.
// A flavor is only for pod sets whose nodeSelector does not contradict its node labels (a GPU
// pod of type nvidia-l4 never gets the nvidia-h100 flavor), and reclaiming within the cohort is
// only for a workload that fits its queue's nominal quota, as Kueue's `reclaimWithinCohort`.
import { formatQuantity, parseQuantity, type ResourceList } from '../api/quantity.js';
import type { ClusterQueueSpec, PreemptionPolicy } from './types.js';

export interface QueueSnapshot {
  name: string;
  cohort?: string;
  strategy: 'StrictFIFO' | 'BestEffortFIFO';
  resourceGroups: NonNullable<ClusterQueueSpec['resourceGroups']>;
  preemption?: PreemptionPolicy;
  /** The node labels of the ResourceFlavors it names (flavor → labels); none: matches all. */
  flavorLabels?: Readonly<Record<string, Record<string, string>>>;
}

export interface PendingWorkload {
  key: string;
  clusterQueue: string;
  priority: number;
  createdAt: string;
  /** Total requests over the workload's pod sets (count × pod requests). */
  requests: ResourceList;
  /**
   * Each pod set's requests (count × pod requests), in the Workload's order: what a message
   * names when one does not fit. Without them the workload is one pod set `main`.
   */
  podSets?: { name: string; requests: ResourceList; nodeSelector?: Record<string, string> }[];
}

/** flavor → resource → amount in use (admitted, not finished). */
export type Usage = Map<string, Map<string, number>>;

export interface Assignment {
  key: string;
  clusterQueue: string;
  /** resource → flavor. */
  flavors: Record<string, string>;
  usage: ResourceList;
}

/** A workload holding quota (QuotaReserved, not finished): a candidate for preemption. */
export interface ReservedWorkload {
  key: string;
  clusterQueue: string;
  priority: number;
  createdAt: string;
  flavors: Record<string, string>;
  usage: ResourceList;
}

export interface Preemption {
  key: string;
  /** The pending workload it makes room for. */
  by: string;
  reason: 'InClusterQueue' | 'InCohortReclamation';
}

export interface QueueingDecision {
  admitted: Assignment[];
  /** Reserved workloads to evict so that higher-priority or reclaiming workloads fit. */
  preempted: Preemption[];
  /** Workloads left pending, with the message Kueue writes on QuotaReserved=False. */
  waiting: Map<string, string>;
  /** Pending workloads in the order each ClusterQueue would take them (its visibility order). */
  order: Map<string, string[]>;
}

const usageOf = (usage: Map<string, Usage>, cq: string, flavor: string, resource: string) =>
  usage.get(cq)?.get(flavor)?.get(resource) ?? 0;

function addUsage(
  usage: Map<string, Usage>,
  cq: string,
  flavors: Record<string, string>,
  amounts: ResourceList,
): void {
  const byFlavor = usage.get(cq) ?? new Map<string, Map<string, number>>();
  usage.set(cq, byFlavor);
  for (const [resource, amount] of Object.entries(amounts)) {
    const flavor = flavors[resource];
    if (!flavor) continue;
    const byResource = byFlavor.get(flavor) ?? new Map<string, number>();
    byFlavor.set(flavor, byResource);
    byResource.set(resource, (byResource.get(resource) ?? 0) + amount);
  }
}

function removeUsage(
  usage: Map<string, Usage>,
  cq: string,
  flavors: Record<string, string>,
  amounts: ResourceList,
): void {
  for (const [resource, amount] of Object.entries(amounts)) {
    const byResource = usage.get(cq)?.get(flavors[resource] ?? '');
    if (byResource) byResource.set(resource, (byResource.get(resource) ?? 0) - amount);
  }
}

const copyUsage = (usage: ReadonlyMap<string, Usage>): Map<string, Usage> =>
  new Map(
    [...usage].map(([cq, byFlavor]) => [
      cq,
      new Map([...byFlavor].map(([f, m]) => [f, new Map(m)])),
    ]),
  );

function quotaOf(q: QueueSnapshot, flavor: string, resource: string) {
  for (const group of q.resourceGroups)
    for (const f of group.flavors)
      if (f.name === flavor)
        for (const r of f.resources)
          if (r.name === resource)
            return {
              nominal: parseQuantity(r.nominalQuota) ?? 0,
              borrowingLimit:
                r.borrowingLimit === undefined ? undefined : parseQuantity(r.borrowingLimit),
            };
  return undefined;
}

/**
 * The most of `resource` in `flavor` the queue could ever hold, everything else gone: its
 * nominal quota, plus what it may borrow from its cohort (Kueue's `PotentialAvailable`).
 */
function maxCapacity(
  q: QueueSnapshot,
  queues: readonly QueueSnapshot[],
  flavor: string,
  resource: string,
): number {
  return available(q, queues, new Map(), flavor, resource);
}

/** How much of `resource` in `flavor` the queue can still take, borrowing from its cohort. */
function available(
  q: QueueSnapshot,
  queues: readonly QueueSnapshot[],
  usage: Map<string, Usage>,
  flavor: string,
  resource: string,
): number {
  const quota = quotaOf(q, flavor, resource);
  if (!quota) return 0;
  const used = usageOf(usage, q.name, flavor, resource);
  if (!q.cohort) return quota.nominal - used;
  const ceiling = quota.nominal + (quota.borrowingLimit ?? Infinity) - used;
  let cohortFree = 0;
  for (const member of queues) {
    if (member.cohort !== q.cohort) continue;
    const m = quotaOf(member, flavor, resource);
    cohortFree += (m?.nominal ?? 0) - usageOf(usage, member.name, flavor, resource);
  }
  return Math.min(ceiling, cohortFree);
}

/** Whether a pod of this nodeSelector may run on the flavor's nodes (Kueue's affinity check). */
function flavorMatches(q: QueueSnapshot, flavor: string, selector?: Record<string, string>) {
  const labels = q.flavorLabels?.[flavor] ?? {};
  return Object.entries(labels).every(
    ([key, value]) => selector?.[key] === undefined || selector[key] === value,
  );
}

type Fit = { ok: true; flavors: Record<string, string> } | { ok: false; message: string };

/**
 * The flavors that fit every pod of the workload, one per resource group, or why none does.
 * The pod sets are counted in order, each on top of those before it, so a message names the
 * first pod set that does not fit (Kueue's "couldn't assign flavors to pod set worker"): short
 * of what is unused now ("insufficient unused quota … more needed"), or larger than the queue
 * could ever hold ("request > maximum capacity", it never fits as the queue is).
 */
function fit(
  q: QueueSnapshot,
  queues: readonly QueueSnapshot[],
  usage: Map<string, Usage>,
  w: Pick<PendingWorkload, 'requests' | 'podSets'>,
): Fit {
  const sets = w.podSets?.length ? w.podSets : [{ name: 'main', requests: w.requests }];
  const flavors: Record<string, string> = {};
  for (const set of sets)
    for (const [resource, amount] of Object.entries(set.requests))
      if (amount > 0 && !q.resourceGroups.some((g) => g.coveredResources.includes(resource)))
        return {
          ok: false,
          message: `couldn't assign flavors to pod set ${set.name}: resource ${resource} unavailable in ClusterQueue`,
        };
  for (const group of q.resourceGroups) {
    const covered = (r: string) => group.coveredResources.includes(r);
    if (!Object.entries(w.requests).some(([r, v]) => v > 0 && covered(r))) continue;
    let why = '';
    const chosen = group.flavors.find((flavor) => {
      const mismatch = sets.find(
        (set) =>
          Object.entries(set.requests).some(([r, v]) => v > 0 && covered(r)) &&
          !flavorMatches(q, flavor.name, set.nodeSelector),
      );
      if (mismatch) {
        why ||= `couldn't assign flavors to pod set ${mismatch.name}: flavor ${flavor.name} doesn't match node affinity`;
        return false;
      }
      const sofar: ResourceList = {};
      return sets.every((set) =>
        Object.entries(set.requests).every(([resource, amount]) => {
          if (amount <= 0 || !covered(resource)) return true;
          const total = (sofar[resource] = (sofar[resource] ?? 0) + amount);
          const free = available(q, queues, usage, flavor.name, resource);
          if (total <= free) return true;
          const max = maxCapacity(q, queues, flavor.name, resource);
          why ||=
            `couldn't assign flavors to pod set ${set.name}: ` +
            (total > max
              ? `insufficient quota for ${resource} in flavor ${flavor.name}, request > maximum capacity (${formatQuantity(total, resource)} > ${formatQuantity(max, resource)})`
              : `insufficient unused quota for ${resource} in flavor ${flavor.name}, ${formatQuantity(total - Math.max(0, free), resource)} more needed`);
          return false;
        }),
      );
    });
    if (!chosen) return { ok: false, message: why };
    for (const [resource, amount] of Object.entries(w.requests))
      if (amount > 0 && covered(resource)) flavors[resource] = chosen.name;
  }
  return { ok: true, flavors };
}

/** The queue as if it had no cohort: what fits its nominal quota alone. */
const alone = (q: QueueSnapshot): QueueSnapshot => {
  const { cohort: _cohort, ...rest } = q;
  return rest;
};

/** Whether the queue uses more than its nominal quota of something the workload holds. */
function borrowing(q: QueueSnapshot, usage: Map<string, Usage>, w: ReservedWorkload): boolean {
  return Object.entries(w.usage).some(([resource]) => {
    const flavor = w.flavors[resource];
    if (!flavor) return false;
    const quota = quotaOf(q, flavor, resource);
    return usageOf(usage, q.name, flavor, resource) > (quota?.nominal ?? 0);
  });
}

/**
 * The reserved workloads whose eviction lets `w` fit in `q`, or none when no allowed set does.
 * Candidates: borrowers of the cohort first (reclaim), then the queue's own by priority, lowest
 * and newest first; taken one by one until `w` fits.
 */
function preemptionFor(
  q: QueueSnapshot,
  queues: readonly QueueSnapshot[],
  usage: Map<string, Usage>,
  w: PendingWorkload,
  reserved: readonly ReservedWorkload[],
  taken: ReadonlySet<string>,
): Preemption[] {
  const within = q.preemption?.withinClusterQueue ?? 'Never';
  // Reclaim is for a workload within its queue's nominal quota: one that would borrow waits.
  const reclaim = fit(alone(q), queues, usage, w).ok
    ? (q.preemption?.reclaimWithinCohort ?? 'Never')
    : 'Never';
  const byName = new Map(queues.map((m) => [m.name, m]));
  const candidates: Preemption[] = [];
  const ordered = [...reserved].sort(
    (a, b) =>
      Number(a.clusterQueue === q.name) - Number(b.clusterQueue === q.name) ||
      a.priority - b.priority ||
      b.createdAt.localeCompare(a.createdAt) ||
      b.key.localeCompare(a.key),
  );
  for (const c of ordered) {
    if (taken.has(c.key)) continue;
    if (c.clusterQueue === q.name) {
      const lower = c.priority < w.priority;
      const newerEqual = c.priority === w.priority && c.createdAt > w.createdAt;
      if (
        (within === 'LowerPriority' && lower) ||
        (within === 'LowerOrNewerEqualPriority' && (lower || newerEqual))
      )
        candidates.push({ key: c.key, by: w.key, reason: 'InClusterQueue' });
      continue;
    }
    const member = byName.get(c.clusterQueue);
    if (!q.cohort || member?.cohort !== q.cohort || !borrowing(member, usage, c)) continue;
    if (reclaim === 'Any' || (reclaim === 'LowerPriority' && c.priority < w.priority))
      candidates.push({ key: c.key, by: w.key, reason: 'InCohortReclamation' });
  }
  const left = copyUsage(usage);
  const byKey = new Map(reserved.map((r) => [r.key, r]));
  const chosen: Preemption[] = [];
  for (const candidate of candidates) {
    const c = byKey.get(candidate.key)!;
    removeUsage(left, c.clusterQueue, c.flavors, c.usage);
    chosen.push(candidate);
    if (fit(q, queues, left, w).ok) return chosen;
  }
  return [];
}

const byQueueOrder = (a: PendingWorkload, b: PendingWorkload) =>
  b.priority - a.priority || a.createdAt.localeCompare(b.createdAt) || a.key.localeCompare(b.key);

export function assignQuota(
  queues: readonly QueueSnapshot[],
  inUse: ReadonlyMap<string, Usage>,
  pending: readonly PendingWorkload[],
  reserved: readonly ReservedWorkload[] = [],
): QueueingDecision {
  const usage = copyUsage(inUse);
  const admitted: Assignment[] = [];
  const preempted: Preemption[] = [];
  const taken = new Set<string>();
  const waiting = new Map<string, string>();
  const order = new Map<string, string[]>();
  const borrowers: PendingWorkload[] = [];
  for (const q of [...queues].sort((a, b) => a.name.localeCompare(b.name))) {
    const mine = pending.filter((w) => w.clusterQueue === q.name).sort(byQueueOrder);
    let blockedBy: string | undefined;
    const left: string[] = [];
    for (const w of mine) {
      if (blockedBy) {
        waiting.set(
          w.key,
          `StrictFIFO: waiting for the older workload ${blockedBy} in ClusterQueue ${q.name}`,
        );
        left.push(w.key);
        continue;
      }
      const result = fit(q, queues, usage, w);
      // One that fits only by borrowing goes after every queue's non-borrowing ones (Kueue
      // orders a cycle's heads so): a lender's own workload is never beaten to its idle quota.
      if (result.ok && q.cohort && !fit(alone(q), queues, usage, w).ok) {
        borrowers.push(w);
        left.push(w.key);
        if (q.strategy === 'StrictFIFO') blockedBy = w.key;
        continue;
      }
      if (result.ok) {
        addUsage(usage, q.name, result.flavors, w.requests);
        admitted.push({
          key: w.key,
          clusterQueue: q.name,
          flavors: result.flavors,
          usage: w.requests,
        });
        continue;
      }
      // Its victims keep their quota until they are evicted: it is admitted in a later pass.
      const victims = preemptionFor(q, queues, usage, w, reserved, taken);
      for (const v of victims) taken.add(v.key);
      preempted.push(...victims);
      waiting.set(
        w.key,
        victims.length > 0
          ? `Pending: preempting ${victims.length} workload(s) to fit`
          : result.message,
      );
      left.push(w.key);
      if (q.strategy === 'StrictFIFO') blockedBy = w.key;
    }
    order.set(q.name, left);
  }
  for (const w of borrowers) {
    const q = queues.find((m) => m.name === w.clusterQueue)!;
    const result = fit(q, queues, usage, w);
    if (!result.ok) {
      waiting.set(w.key, result.message);
      continue;
    }
    addUsage(usage, q.name, result.flavors, w.requests);
    admitted.push({ key: w.key, clusterQueue: q.name, flavors: result.flavors, usage: w.requests });
    order.set(
      q.name,
      (order.get(q.name) ?? []).filter((key) => key !== w.key),
    );
  }
  return { admitted, preempted, waiting, order };
}
