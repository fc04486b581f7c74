/*
 * The admission cycle as it was before it was made fast (a node scan per job, a sort-free but
 * linear pick of the next tenant, a fresh object per arithmetic step), kept only as the oracle
 * of the equivalence test in admission.equivalence.spec.ts: the fast `decide()` must return the
 * same decision on every snapshot. Not exported from the package index. It predates flavors
 * (its shape key ignores GPU type and capacity), so it is an oracle only for snapshots without
 * them; flavors have their own table tests (flavors.spec.ts).
 */
import {
  compareJobs,
  DEFAULT_STARVATION_THRESHOLD_MS,
  describeBlocker,
  type AdmissionDecision,
  type Admission,
  type Blocker,
  type DecideOptions,
  type Reservation,
  type Waiting,
  type WaitReason,
} from './admission.js';
import { neverFits, type NeverFitsReason } from './never-fits.js';
import {
  clusterCapacity,
  compareStrings,
  deficit,
  freeOn,
  freePodSlots,
  isUsable,
  nodeAccepts,
  nodesThatCouldFit,
} from './nodes.js';
import { add, dominantShare, fits, RESOURCE_NAMES, subtract, type Resources } from './resources.js';
import type { NodeState, PendingJob, Snapshot, TenantState } from './snapshot.js';

function compareWaits(a: PendingJob, b: PendingJob): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || compareStrings(a.id, b.id);
}

interface TenantWork {
  state: TenantState;
  weight: number;
  used: Resources;
  share: number;
  active: number;
  queue: PendingJob[];
  cursor: number;
  heldBy?: string;
}

type Evaluation = { ok: true; node: string } | { ok: false; reason: WaitReason; blocker: Blocker };

export function decideReference(
  snapshot: Snapshot,
  options: DecideOptions = {},
): AdmissionDecision {
  return new AdmissionCycle(snapshot, options).run();
}

class AdmissionCycle {
  private readonly threshold: number;
  private readonly nodes: NodeState[];
  private readonly usable: NodeState[];
  private readonly total: Resources;
  private readonly free = new Map<string, Resources>();
  /** Pod slots left per usable node (absent: the node reports no pod limit). */
  private readonly slots = new Map<string, number>();
  private readonly reserved = new Map<string, Reservation>();
  private readonly tenants = new Map<string, TenantWork>();
  private readonly admitted: Admission[] = [];
  private readonly waiting = new Map<string, Waiting>();
  private readonly ranked: PendingJob[];
  /**
   * Shapes (requests + node constraints) first-fit already failed for in this cycle. Room only
   * shrinks during a cycle and reservations only add, so a failure stays a failure.
   */
  private readonly failedShapes = new Set<string>();

  constructor(
    private readonly snapshot: Snapshot,
    options: DecideOptions,
  ) {
    this.threshold = options.starvationThresholdMs ?? DEFAULT_STARVATION_THRESHOLD_MS;
    this.nodes = [...snapshot.nodes].sort((a, b) => compareStrings(a.name, b.name));
    this.usable = this.nodes.filter(isUsable);
    this.total = clusterCapacity(this.nodes);
    for (const node of this.usable) {
      this.free.set(node.name, freeOn(node));
      if (node.pods) this.slots.set(node.name, freePodSlots(node));
    }
    for (const state of [...snapshot.tenants].sort((a, b) => compareStrings(a.id, b.id))) {
      this.tenants.set(state.id, {
        state,
        // A zero or negative weight would divide by zero; treat it as the default.
        weight: state.weight > 0 ? state.weight : 1,
        used: { ...state.running.resources },
        share: 0,
        active: state.running.count,
        queue: [],
        cursor: 0,
      });
    }
    for (const t of this.tenants.values()) t.share = dominantShare(t.used, this.total) / t.weight;
    this.ranked = [...snapshot.pending].sort(
      (a, b) => compareStrings(a.tenantId, b.tenantId) || compareJobs(a, b),
    );
  }

  run(): AdmissionDecision {
    this.classify();
    this.protectStarving();
    this.fairShare();
    this.releaseHeld();
    this.describeCapacity();
    this.assignPositions();
    return {
      admitted: this.admitted,
      waiting: this.ranked.flatMap((job) => this.waiting.get(job.id) ?? []),
      reservations: [...this.reserved.values()],
    };
  }

  private classify(): void {
    const verdicts = new Map<string, NeverFitsReason[]>();
    for (const job of this.ranked) {
      const tenant = this.tenants.get(job.tenantId);
      if (job.offloadPreference === 'required') {
        this.wait(job, 'Offload', { kind: 'offload' });
      } else if (!tenant) {
        this.wait(job, 'UnknownTenant', { kind: 'unknownTenant' });
      } else {
        const key = `${job.tenantId} ${shapeKey(job)}`;
        const reasons =
          verdicts.get(key) ?? neverFits(job.resources, tenant.state.limits, this.nodes, job);
        verdicts.set(key, reasons);
        if (reasons.length > 0) this.wait(job, 'Unschedulable', { kind: 'unschedulable', reasons });
        else tenant.queue.push(job);
      }
    }
  }

  private protectStarving(): void {
    const now = this.snapshot.now.getTime();
    const heads = [...this.tenants.values()]
      .flatMap((t) => (t.queue[0] ? [{ tenant: t, job: t.queue[0] }] : []))
      .filter(({ job }) => now - job.createdAt.getTime() >= this.threshold)
      .sort(
        (a, b) =>
          a.job.createdAt.getTime() - b.job.createdAt.getTime() ||
          compareStrings(a.job.id, b.job.id),
      );
    for (const { tenant, job } of heads) {
      tenant.cursor = 1;
      const result = this.evaluate(job, tenant);
      if (result.ok) {
        this.admit(job, tenant, result.node, true);
        continue;
      }
      if (result.reason === 'InsufficientCapacity') {
        const node = this.reservationFor(job);
        if (node) {
          this.reserved.set(node.name, { jobId: job.id, tenantId: job.tenantId, node: node.name });
        }
      }
      if (result.blocker.kind !== 'concurrency') tenant.heldBy = job.id;
      this.wait(job, result.reason, result.blocker);
    }
  }

  private fairShare(): void {
    for (;;) {
      const tenant = this.nextTenant();
      if (!tenant) return;
      const job = tenant.queue[tenant.cursor++];
      if (!job) continue;
      const result = this.evaluate(job, tenant);
      if (result.ok) {
        this.admit(job, tenant, result.node, false);
      } else {
        this.wait(job, result.reason, result.blocker);
        if (result.blocker.kind === 'concurrency') {
          // The limit only tightens within a cycle: the rest of the queue waits for the same.
          for (const rest of tenant.queue.slice(tenant.cursor)) {
            this.wait(rest, result.reason, result.blocker);
          }
          tenant.cursor = tenant.queue.length;
        }
      }
    }
  }

  /** Jobs queued behind a starving job of their tenant. */
  private releaseHeld(): void {
    for (const tenant of this.tenants.values()) {
      if (!tenant.heldBy) continue;
      for (const job of tenant.queue.slice(tenant.cursor)) {
        this.wait(job, 'WaitingForOlderJob', { kind: 'olderJob', jobId: tenant.heldBy });
      }
      tenant.cursor = tenant.queue.length;
    }
  }

  private nextTenant(): TenantWork | undefined {
    let best: { tenant: TenantWork; share: number; head: PendingJob } | undefined;
    for (const tenant of this.tenants.values()) {
      const head = tenant.queue[tenant.cursor];
      if (tenant.heldBy || !head) continue;
      const share = tenant.share;
      // Tenants are visited in id order, so a full tie keeps the smaller id.
      if (
        !best ||
        share < best.share ||
        (share === best.share && compareWaits(head, best.head) < 0)
      )
        best = { tenant, share, head };
    }
    return best?.tenant;
  }

  private evaluate(job: PendingJob, tenant: TenantWork): Evaluation {
    const limits = tenant.state.limits;
    if (tenant.active >= limits.maxConcurrentJobs) {
      return {
        ok: false,
        reason: 'ConcurrencyLimit',
        blocker: { kind: 'concurrency', active: tenant.active, limit: limits.maxConcurrentJobs },
      };
    }
    // A dimension the job does not request cannot block it, even if a lowered limit left the
    // tenant over quota there (Kubernetes' ResourceQuota behaves the same way).
    const shortfalls = RESOURCE_NAMES.filter(
      (r) => job.resources[r] > 0 && tenant.used[r] + job.resources[r] > limits[r],
    ).map((r) => ({
      resource: r,
      used: tenant.used[r],
      limit: limits[r],
      needed: job.resources[r],
    }));
    if (shortfalls.length > 0) {
      return { ok: false, reason: 'WaitingForQuota', blocker: { kind: 'quota', shortfalls } };
    }
    const shape = shapeKey(job);
    if (!this.failedShapes.has(shape)) {
      for (const node of this.usable) {
        const reservation = this.reserved.get(node.name);
        if (reservation && reservation.jobId !== job.id) continue;
        if (!nodeAccepts(job, node) || !this.hasPodSlot(node)) continue;
        if (fits(job.resources, this.free.get(node.name) ?? node.allocatable)) {
          return { ok: true, node: node.name };
        }
      }
      this.failedShapes.add(shape);
    }
    // Details (closest node, reservations in the way) are filled in by describeCapacity().
    return {
      ok: false,
      reason: 'InsufficientCapacity',
      blocker: { kind: 'capacity', needed: job.resources, unavailable: [] },
    };
  }

  /**
   * Fills in the capacity blockers against the cluster as this cycle leaves it, which is what
   * a user asking "why" sees next. Done once at the end rather than on every failed fit: it
   * scans every node, and identical shapes share the answer.
   */
  private describeCapacity(): void {
    const cache = new Map<string, Blocker>();
    for (const job of this.ranked) {
      if (this.waiting.get(job.id)?.reason !== 'InsufficientCapacity') continue;
      const own = [...this.reserved.values()].find((r) => r.jobId === job.id);
      const key = shapeKey(job);
      let blocker = own ? undefined : cache.get(key);
      if (!blocker) {
        blocker = this.capacityBlocker(job, own);
        if (!own) cache.set(key, blocker);
      }
      this.wait(job, 'InsufficientCapacity', blocker);
    }
  }

  private capacityBlocker(job: PendingJob, own: Reservation | undefined): Blocker {
    let best: { node: NodeState; free: Resources; deficit: number } | undefined;
    let blockedBy: Reservation | undefined;
    for (const node of this.usable) {
      if (!nodeAccepts(job, node) || !fits(job.resources, node.allocatable)) continue;
      const free = this.free.get(node.name) ?? node.allocatable;
      const reservation = this.reserved.get(node.name);
      if (reservation && reservation.jobId !== job.id) {
        if (fits(job.resources, free) && this.hasPodSlot(node)) blockedBy ??= reservation;
        continue;
      }
      const d = deficit(job.resources, free, node.allocatable, this.podsOf(node));
      if (!best || d < best.deficit) best = { node, free, deficit: d };
    }
    const blocker: Blocker = {
      kind: 'capacity',
      needed: job.resources,
      unavailable: nodesThatCouldFit(job, this.nodes)
        .filter((n) => !isUsable(n) || !nodeAccepts(job, n))
        .map((n) => n.name),
    };
    if (best) {
      blocker.best = { node: best.node.name, free: best.free };
      const pods = this.podsOf(best.node);
      if (pods && pods.free < 1) blocker.best.pods = pods;
    }
    const reservation = own ?? blockedBy;
    if (reservation) blocker.reservation = reservation;
    return blocker;
  }

  private hasPodSlot(node: NodeState): boolean {
    return (this.slots.get(node.name) ?? Infinity) >= 1;
  }

  /** A node's pod slots as this cycle leaves them; undefined when it has no pod limit. */
  private podsOf(node: NodeState): { free: number; allocatable: number } | undefined {
    const free = this.slots.get(node.name);
    return node.pods && free !== undefined
      ? { free, allocatable: node.pods.allocatable }
      : undefined;
  }

  /** The unreserved usable node, able to hold the job, that needs the least to drain. */
  private reservationFor(job: PendingJob): NodeState | undefined {
    let best: { node: NodeState; deficit: number } | undefined;
    for (const node of this.usable) {
      if (this.reserved.has(node.name) || !nodeAccepts(job, node)) continue;
      if (!fits(job.resources, node.allocatable) || node.pods?.allocatable === 0) continue;
      const d = deficit(
        job.resources,
        this.free.get(node.name) ?? node.allocatable,
        node.allocatable,
        this.podsOf(node),
      );
      if (!best || d < best.deficit) best = { node, deficit: d };
    }
    return best?.node;
  }

  private admit(job: PendingJob, tenant: TenantWork, node: string, starving: boolean): void {
    tenant.used = add(tenant.used, job.resources);
    tenant.share = dominantShare(tenant.used, this.total) / tenant.weight;
    tenant.active += 1;
    this.free.set(node, subtract(this.free.get(node) ?? job.resources, job.resources));
    const slots = this.slots.get(node);
    if (slots !== undefined) this.slots.set(node, slots - 1);
    this.admitted.push({ jobId: job.id, tenantId: job.tenantId, node, starving });
  }

  private wait(job: PendingJob, reason: WaitReason, blocker: Blocker): void {
    const clusterBound =
      reason === 'InsufficientCapacity' ||
      (blocker.kind === 'unschedulable' &&
        blocker.reasons.every((r) => r.kind === 'node' || r.kind === 'noSingleNode'));
    this.waiting.set(job.id, {
      jobId: job.id,
      tenantId: job.tenantId,
      reason,
      message: describeBlocker(job, blocker, this.threshold),
      blocker,
      offloadCandidate:
        job.offloadPreference === 'required' ||
        (job.offloadPreference === 'allowed' && clusterBound),
    });
  }

  /**
   * Positions among jobs that can eventually run here: reservation holders first (they are
   * next by the starvation rule), then the order weighted DRF would hand out slots if every
   * job fitted, starting from what each tenant holds after this cycle.
   */
  private assignPositions(): void {
    const runnable = this.ranked.filter((job) => {
      const w = this.waiting.get(job.id);
      return (
        w && w.reason !== 'Offload' && w.reason !== 'Unschedulable' && w.reason !== 'UnknownTenant'
      );
    });
    const reservedIds = new Set([...this.reserved.values()].map((r) => r.jobId));
    const order: PendingJob[] = runnable
      .filter((j) => reservedIds.has(j.id))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compareStrings(a.id, b.id));
    interface Lane {
      weight: number;
      jobs: PendingJob[];
      next: number;
      used: Resources;
      share: number;
    }
    const lanes = new Map<string, Lane>();
    for (const job of runnable) {
      const tenant = this.tenants.get(job.tenantId);
      if (!tenant || reservedIds.has(job.id)) continue;
      const lane = lanes.get(job.tenantId) ?? {
        weight: tenant.weight,
        jobs: [],
        next: 0,
        used: tenant.used,
        share: tenant.share,
      };
      lane.jobs.push(job);
      lanes.set(job.tenantId, lane);
    }
    for (;;) {
      let best: { lane: Lane; head: PendingJob } | undefined;
      for (const lane of lanes.values()) {
        const head = lane.jobs[lane.next];
        if (!head) continue;
        if (
          !best ||
          lane.share < best.lane.share ||
          (lane.share === best.lane.share && compareWaits(head, best.head) < 0)
        )
          best = { lane, head };
      }
      if (!best) break;
      const { lane, head } = best;
      lane.next += 1;
      lane.used = add(lane.used, head.resources);
      lane.share = dominantShare(lane.used, this.total) / lane.weight;
      order.push(head);
    }
    const perTenant = new Map<string, number>();
    for (const job of runnable) {
      const n = (perTenant.get(job.tenantId) ?? 0) + 1;
      perTenant.set(job.tenantId, n);
      const w = this.waiting.get(job.id);
      if (w) w.position = { tenant: n, global: 0 };
    }
    order.forEach((job, i) => {
      const w = this.waiting.get(job.id);
      if (w?.position) w.position.global = i + 1;
    });
  }
}

/** Jobs with the same key place identically: same requests, selector and tolerations. */
function shapeKey(job: PendingJob): string {
  const r = job.resources;
  return `${r.cpuMillis}/${r.memoryBytes}/${r.gpu}/${JSON.stringify(job.nodeSelector ?? {})}/${JSON.stringify(job.tolerations ?? [])}`;
}
