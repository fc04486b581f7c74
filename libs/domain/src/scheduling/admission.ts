import {
  describeGang,
  emptyCluster,
  gangPackingNeverFits,
  gangReservation,
  isGang,
  jobTotal,
  podReasons,
  roomFor,
  tryGang,
  type Room,
  type SetToPlace,
} from './gang.js';
import {
  bookCohort,
  borrows,
  ceilingLimits,
  cohortShortfalls,
  cohortsOf,
  joinCohort,
  type CohortMember,
  type CohortWork,
} from './borrowing.js';
import { MinHeap } from './heap.js';
import { neverFits, type NeverFitsReason } from './never-fits.js';
import {
  clusterCapacity,
  compareStrings,
  deficit,
  freeOn,
  freePodSlots,
  hasFlavor,
  isUsable,
  nodeAccepts,
  nodesThatCouldFit,
  placementOrder,
  podOf,
} from './nodes.js';
import {
  dominantShare,
  fits,
  formatAmount,
  formatResources,
  RESOURCE_NAMES,
  type QuotaResource,
  resourceLabel,
  type Resources,
} from './resources.js';
import type {
  AdmittedCapacity,
  NodeState,
  PendingJob,
  PodSet,
  Snapshot,
  TenantState,
} from './snapshot.js';
import { poolOf, slicesNeverFit, withTpuRequests } from './tpu.js';

/**
 * A job that has waited this long at the head of its tenant's queue is *starving*: it is
 * considered before fair share, and if it cannot start it reserves what it needs (see `decide`).
 */
export const DEFAULT_STARVATION_THRESHOLD_MS = 10 * 60_000;

export interface DecideOptions {
  starvationThresholdMs?: number;
}

/** Why a pending job was not admitted; becomes the job's `Queued/<reason>`. */
export type WaitReason =
  | 'ConcurrencyLimit'
  | 'WaitingForQuota'
  | 'InsufficientCapacity'
  | 'Unschedulable'
  | 'WaitingForOlderJob'
  | 'Offload'
  | 'UnknownTenant';

export interface QuotaShortfall {
  /** `tpu` only for a tenant's TPU quota (`tpuQuota`, `tpuQuotaByType`), never a cohort's. */
  resource: QuotaResource;
  /** Held by the tenant's running jobs plus those admitted earlier in this cycle. */
  used: number;
  limit: number;
  needed: number;
  /**
   * Set when the limit is the tenant's quota for one accelerator type: GPUs of that type
   * (`gpuQuotaByType`), or with `resource: 'tpu'` chips of that TPU type (`tpuQuotaByType`).
   */
  gpuType?: string;
  /**
   * Set when the limit is the cohort's pool (its members' guarantees summed) and `used` what the
   * members hold plus the idle guarantee they keep for their own waiting jobs.
   */
  cohort?: string;
  /** Set when the limit is the tenant's guarantee plus this borrowing limit. */
  borrowing?: number;
}

/** The constraint that blocks a job, with the numbers explain() turns into advice. */
export type Blocker =
  | { kind: 'concurrency'; active: number; limit: number }
  | { kind: 'quota'; shortfalls: QuotaShortfall[] }
  | {
      kind: 'capacity';
      needed: Resources;
      /**
       * The usable node closest to fitting the job (least to drain), if any could hold it;
       * `pods` when every pod slot of that node is taken.
       */
      best?: { node: string; free: Resources; pods?: { free: number; allocatable: number } };
      /** Nodes large enough but cordoned, NotReady, or tainted right now. */
      unavailable: string[];
      /** The node this job reserves (it is starving), or the reservation that kept it out. */
      reservation?: Reservation;
      /** For a gang: how many of each set's pods the cluster has room for now. */
      gang?: GangRoom;
    }
  | { kind: 'unschedulable'; reasons: NeverFitsReason[] }
  | { kind: 'olderJob'; jobId: string }
  | { kind: 'offload' }
  | { kind: 'unknownTenant' };

/** Room for a gang's pods on the cluster as the cycle leaves it. */
export interface GangRoom {
  /** Per pod set, in placement order: its pods, and how many of them first-fit placed. */
  sets: { name: string; count: number; room: number }[];
  /** Usable nodes held for this gang (it is starving). */
  reserved: string[];
}

export interface Admission {
  jobId: string;
  tenantId: string;
  /**
   * The node first-fit placed it on (a gang's: its first pod's). A hint for messages and
   * tests: Kubernetes' scheduler makes the real binding.
   */
  node: string;
  /** A gang's pods: how many of each set went to each node (sets in placement order). */
  placements?: PodPlacement[];
  /**
   * A TPU gang's node pools, one per slice in slice order (`PodSet.slices`): all hosts of slice
   * `k` were placed on pool `slicePools[k]`, and the scheduler binds that slice's pods to it.
   */
  slicePools?: string[];
  /** Admitted ahead of fair share because it had waited past the starvation threshold. */
  starving: boolean;
  /**
   * The capacity a `prefer-spot` job was placed on: spot when a spot node had room, else
   * on-demand. Its pods must be bound to that capacity (the pod template says so).
   */
  capacity?: AdmittedCapacity;
  /**
   * Set when the admission takes the tenant beyond its guarantee into its cohort's idle quota:
   * the job may be preempted when a member reclaims its guarantee (`preempt`).
   */
  borrowed?: true;
}

export interface PodPlacement {
  podSet: string;
  node: string;
  count: number;
}

export interface QueuePosition {
  /** 1-based, among the tenant's waiting jobs that can eventually run on the cluster. */
  tenant: number;
  /** 1-based, in the order fair share would hand out the next slots (reservations first). */
  global: number;
}

export interface Waiting {
  jobId: string;
  tenantId: string;
  reason: WaitReason;
  message: string;
  blocker: Blocker;
  /** Absent for jobs that will never run on this cluster (Unschedulable, Offload, unknown). */
  position?: QueuePosition;
  /**
   * True when the cluster is what keeps it out and the job allows offload: the offload worker
   * may take it (it still applies its own rules: GPUs, price cap, budget).
   */
  offloadCandidate: boolean;
}

/** A node held empty-of-newcomers for a starving job until enough of it drains. */
export interface Reservation {
  jobId: string;
  tenantId: string;
  node: string;
}

export interface AdmissionDecision {
  /** In admission order: starving jobs first, then the fair-share order. */
  admitted: Admission[];
  /** Every other pending job, in the snapshot's rank order (tenant id, then queue order). */
  waiting: Waiting[];
  reservations: Reservation[];
}

/** Rank within a tenant's queue: highest priority, then oldest, then id. */
export function compareJobs(a: PendingJob, b: PendingJob): number {
  return (
    b.priority - a.priority ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    compareStrings(a.id, b.id)
  );
}

/** A pending job with what the cycle derives from it once: its wait start and its shape. */
interface Entry {
  job: PendingJob;
  /** `createdAt` in ms, read once: the sorts and the fair-share heap compare it often. */
  time: number;
  shape: Shape;
  /** What it asks of the tenant's quota: a gang's pods together (`jobTotal`). */
  need: Resources;
  /** A gang placed by `evaluate`, for `admit`: per set, the usable-node index of each pod. */
  placed?: number[][];
  /** The sets `placed` indexes: the gang shape (or its capacity variant) that was placed. */
  placedSets?: readonly { set: PodSet }[];
  /** The capacity a `prefer-spot` job was placed on (`evaluate`), for `admit`. */
  capacity?: AdmittedCapacity;
  /** Set when the job is not admitted (the last call to `wait` wins). */
  reason?: WaitReason;
  blocker?: Blocker;
  position?: QueuePosition;
}

/**
 * Jobs with the same shape (requests, node selector, tolerations) place identically, so what
 * the cycle learns about one holds for all of them.
 */
interface Shape {
  /** A job of this shape, whose requests and constraints stand for all of them. */
  job: PendingJob;
  /**
   * Index (into the usable nodes) of the first node not yet known to refuse this shape. A
   * node refuses a shape for good within a cycle: room and pod slots only shrink, labels and
   * taints do not change, and a reservation only adds. So first-fit resumes here instead of
   * rescanning the full nodes in front of it, and costs O(nodes + placements) per shape per
   * cycle rather than O(nodes) per job. The one exception, a starving job's own reserved node,
   * never matters: a job is never evaluated again once it holds a reservation.
   */
  cursor: number;
  /** The capacity blocker of its waiting jobs, once computed (`describeCapacity`). */
  capacity?: Blocker;
  /** Why it can never run on any node, whatever the tenant (`classify`). */
  nodeReasons?: NeverFitsReason[];
  /** A gang's pod sets, each with the shape of its pod (whose cursor first-fit shares). */
  gang?: { sets: { set: PodSet; shape: Shape }[]; full: boolean };
  /**
   * A `prefer-spot` shape: its spot and on-demand variants, tried in that order. Each is the
   * shape of the same job naming that capacity, so its cursor is shared with such jobs.
   */
  choices?: { capacity: AdmittedCapacity; shape: Shape }[];
}

/** Limits no request exceeds: asks `neverFits` about the nodes only. */
const NO_LIMITS = {
  cpuMillis: Infinity,
  memoryBytes: Infinity,
  gpu: Infinity,
  maxConcurrentJobs: Infinity,
} as const;

interface TenantWork {
  state: TenantState;
  /** Position in tenant-id order: the last tie-breaker of the fair-share heap. */
  index: number;
  weight: number;
  /** The cycle's own copy, updated in place as jobs are admitted. */
  used: Resources;
  /** Weighted dominant share of `used`, kept in step with it (the fair-share loop reads it often). */
  share: number;
  active: number;
  /** Ranked; `cursor` is the next one the fair-share loop looks at. */
  queue: Entry[];
  cursor: number;
  /** Set when a starving job holds the tenant's queue: nothing behind it is admitted. */
  heldBy?: string;
  /** Per shape: can never run (Unschedulable reasons), computed once. */
  verdicts: Map<Shape, Blocker | null>;
  /** Per shape: the quota blocker for the current `used`; emptied on every admission. */
  quota: Map<Shape, Blocker>;
  /** GPUs held per accelerator type, running and admitted in this cycle. */
  gpuByType: Map<string, number>;
  /** TPU chips held per TPU type, running and admitted in this cycle. */
  tpuByType: Map<string, number>;
  /** Its cohort bookkeeping, when it is in one (`joinCohorts`). */
  member?: CohortMember;
}

/** A usable node's index, or the reason and blocker a job waits for. */
type Evaluation = number | { reason: WaitReason; blocker: Blocker };

/**
 * Between the heads of two tenants' queues at equal share: the one waiting longer, then the
 * smaller id. Never priority: a tenant chooses its own priorities, so they rank its jobs against
 * each other and never against another tenant's.
 */
function waitsLonger(a: Entry, b: Entry): number {
  return a.time - b.time || compareStrings(a.job.id, b.job.id);
}

/** Weighted dominant share, the same arithmetic as `dominantShare(used, total) / weight`. */
function weightedShare(used: Resources, total: Resources, weight: number): number {
  return dominantShare(used, total) / weight;
}

/**
 * One admission cycle over an immutable snapshot.
 *
 * 1. Jobs that can never run here are set aside: `offloadPreference: 'required'` (Offload),
 *    unknown tenant, or `neverFits` (Unschedulable: larger than the tenant's whole quota or
 *    than any node).
 * 2. Anti-starvation: the head of each tenant's queue (its highest-ranked job) that has waited
 *    at least `starvationThresholdMs` is considered first, oldest first. If it fits it is
 *    admitted. If not, it *holds its tenant's queue* (no job ranked behind it is admitted, so
 *    the tenant's own small jobs cannot keep eating the quota it waits for) and, when cluster
 *    capacity is what blocks it, it *reserves one node*: the usable node closest to fitting it.
 *    No other job is placed on a reserved node, so that node only drains, and the job starts
 *    once enough of it has finished. Backfill continues on every other node. Roam does not know
 *    job durations, so it cannot backfill "jobs that finish before the reservation" (EASY
 *    backfill); draining one node is the simple rule that is certain to terminate.
 * 3. Weighted dominant-resource fair share: repeatedly pick the tenant with the lowest
 *    dominant share / weight (share of the usable cluster's allocatable, counting running jobs
 *    and those admitted in this cycle) that still has jobs to look at; ties go to the tenant
 *    whose head job has waited longer, then the tenant id (never to the higher priority). Its
 *    next job is admitted if the tenant's concurrency limit and quota allow and first-fit finds
 *    a usable node with room: requests within its free resources and a free pod slot (nodes by
 *    name; room accounts for everything placed in this cycle). A job that does not fit is
 *    skipped and the tenant's next one is tried (backfill), so one big job does not block its
 *    tenant's smaller ones until it starves.
 *
 * Priority orders jobs within a tenant; across tenants fair share decides. Same snapshot, same
 * decision: every collection is sorted by id/name first and nothing reads a clock.
 *
 * Cost (docs/scheduling.md#cost): O(P log P) to rank P pending jobs, then O(log T) per job
 * for the next tenant (a heap over T tenants), O(1) amortised per job for first-fit (a cursor per
 * shape, see `Shape`), and O(N) per distinct shape for the checks that scan the N nodes. Blockers
 * and messages are shared by the jobs that wait for the same thing; the objects of a decision
 * are read-only.
 */
export function decide(snapshot: Snapshot, options: DecideOptions = {}): AdmissionDecision {
  // A TPU job asks for a slice; its pods' chips and hosts depend on the nodes (tpu.ts).
  const pending = withTpuRequests(snapshot.pending, snapshot.nodes);
  return new AdmissionCycle(
    pending === snapshot.pending ? snapshot : { ...snapshot, pending },
    options,
  ).run();
}

class AdmissionCycle {
  private readonly threshold: number;
  private readonly nodes: NodeState[];
  private readonly usable: NodeState[];
  private readonly total: Resources;
  /** Room left on each usable node (by index) after what this cycle placed. */
  private readonly freeCpu: Float64Array;
  private readonly freeMemory: Float64Array;
  private readonly freeGpu: Float64Array;
  private readonly freeTpu: Float64Array;
  /** Pod slots left per usable node; Infinity when the node reports no pod limit. */
  private readonly slots: Float64Array;
  /** The reservation on each usable node, if any. */
  private readonly reservedAt: (Reservation | undefined)[];
  private readonly reservations: Reservation[] = [];
  private readonly tenants = new Map<string, TenantWork>();
  private readonly admitted: Admission[] = [];
  private readonly ranked: Entry[];
  private readonly cohorts: Map<string, CohortWork>;
  /** Reused by node scans that only compare, so a scan allocates nothing per node. */
  private readonly scratchFree: Resources = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };
  private readonly scratchPods = { free: 0, allocatable: 0 };
  /** The same room, as gang placement (gang.ts) reads and takes it. */
  private readonly room: Room;
  /** Every node emptied, to pack gangs into for never-fits; built at the first gang. */
  private empty?: Room;

  constructor(
    private readonly snapshot: Snapshot,
    options: DecideOptions,
  ) {
    this.threshold = options.starvationThresholdMs ?? DEFAULT_STARVATION_THRESHOLD_MS;
    this.nodes = [...snapshot.nodes].sort((a, b) => compareStrings(a.name, b.name));
    this.usable = this.nodes.filter(isUsable);
    this.total = clusterCapacity(this.nodes);
    const n = this.usable.length;
    this.freeCpu = new Float64Array(n);
    this.freeMemory = new Float64Array(n);
    this.freeGpu = new Float64Array(n);
    this.freeTpu = new Float64Array(n);
    this.slots = new Float64Array(n);
    this.reservedAt = new Array<Reservation | undefined>(n).fill(undefined);
    this.usable.forEach((node, i) => {
      const free = freeOn(node);
      this.freeCpu[i] = free.cpuMillis;
      this.freeMemory[i] = free.memoryBytes;
      this.freeGpu[i] = free.gpu;
      this.freeTpu[i] = free.tpu ?? 0;
      this.slots[i] = freePodSlots(node);
    });
    this.room = {
      usable: this.usable,
      freeCpu: this.freeCpu,
      freeMemory: this.freeMemory,
      freeGpu: this.freeGpu,
      freeTpu: this.freeTpu,
      slots: this.slots,
      reservedFor: (i) => this.reservedAt[i]?.jobId,
    };
    const sortedTenants = [...snapshot.tenants].sort((a, b) => compareStrings(a.id, b.id));
    this.cohorts = cohortsOf(sortedTenants);
    sortedTenants.forEach((state, index) => {
      // A zero or negative weight would divide by zero; treat it as the default.
      const weight = state.weight > 0 ? state.weight : 1;
      const used = { ...state.running.resources };
      this.tenants.set(state.id, {
        state,
        index,
        weight,
        used,
        share: weightedShare(used, this.total, weight),
        active: state.running.count,
        queue: [],
        cursor: 0,
        verdicts: new Map(),
        quota: new Map(),
        gpuByType: new Map(Object.entries(state.running.gpuByType ?? {})),
        tpuByType: new Map(Object.entries(state.running.tpuByType ?? {})),
      });
    });
    const shapes = new ShapeIndex();
    this.ranked = snapshot.pending.map((job) => ({
      job,
      time: job.createdAt.getTime(),
      shape: shapes.of(job),
      need: jobTotal(job),
    }));
    this.ranked.sort(
      (a, b) =>
        compareStrings(a.job.tenantId, b.job.tenantId) ||
        b.job.priority - a.job.priority ||
        a.time - b.time ||
        compareStrings(a.job.id, b.job.id),
    );
  }

  run(): AdmissionDecision {
    this.classify();
    if (this.cohorts.size > 0) this.joinCohorts();
    this.protectStarving();
    this.fairShare();
    this.releaseHeld();
    this.describeCapacity();
    this.assignPositions();
    return {
      admitted: this.admitted,
      waiting: this.waitingList(),
      reservations: this.reservations,
    };
  }

  private classify(): void {
    for (const entry of this.ranked) {
      const job = entry.job;
      const tenant = this.tenants.get(job.tenantId);
      if (job.offloadPreference === 'required') {
        this.wait(entry, 'Offload', { kind: 'offload' });
      } else if (!tenant) {
        this.wait(entry, 'UnknownTenant', { kind: 'unknownTenant' });
      } else {
        let verdict = tenant.verdicts.get(entry.shape);
        if (verdict === undefined) {
          // neverFits' reasons are the tenant's limits' then the nodes'; the nodes' part
          // depends on the shape alone, so it is computed once per shape, not per tenant.
          entry.shape.nodeReasons ??= entry.shape.gang
            ? this.gangNodeReasons(job, entry.shape.gang)
            : neverFits(job.resources, NO_LIMITS, this.nodes, job);
          const cohort = tenant.state.cohort;
          const limits =
            cohort === undefined
              ? tenant.state.limits
              : ceilingLimits(tenant.state, this.cohorts.get(cohort) as CohortWork);
          const reasons = [
            ...neverFits(entry.need, limits, [], job),
            ...typeQuotaNeverFits(job, entry.need.gpu, tenant.state),
            ...tpuQuotaNeverFits(job.tpu?.type, entry.need.tpu ?? 0, tenant.state),
            ...entry.shape.nodeReasons,
          ];
          verdict = reasons.length > 0 ? { kind: 'unschedulable', reasons } : null;
          tenant.verdicts.set(entry.shape, verdict);
        }
        if (verdict) this.wait(entry, 'Unschedulable', verdict);
        else tenant.queue.push(entry);
      }
    }
  }

  /**
   * A gang shape's node part of never-fits: its pods' (each computed once per pod shape, shared
   * with single jobs of that shape), then packing it into the emptied cluster.
   */
  private gangNodeReasons(job: PendingJob, gang: NonNullable<Shape['gang']>): NeverFitsReason[] {
    const reasons = gang.sets.flatMap(({ set, shape }) => [
      ...podReasons(
        set,
        (shape.nodeReasons ??= neverFits(set.resources, NO_LIMITS, this.nodes, shape.job)),
      ),
      // Fewer node pools of its slice than it has slices (tpu.ts).
      ...slicesNeverFit(shape.job, set, this.nodes),
    ]);
    if (reasons.length > 0 || this.nodes.length === 0) return reasons;
    this.empty ??= emptyCluster(this.nodes);
    const sets = gang.sets.map(({ set, shape }) => ({ set, pod: shape.job, from: 0 }));
    return gangPackingNeverFits(job, sets, this.empty);
  }

  /** Cohort members keep as much of their idle guarantee as their runnable jobs ask for. */
  private joinCohorts(): void {
    for (const tenant of this.tenants.values()) {
      const name = tenant.state.cohort;
      if (name === undefined) continue;
      const demand = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };
      for (const entry of tenant.queue) {
        demand.cpuMillis += entry.need.cpuMillis;
        demand.memoryBytes += entry.need.memoryBytes;
        demand.gpu += entry.need.gpu;
      }
      const cohort = this.cohorts.get(name) as CohortWork;
      tenant.member = joinCohort(tenant.state, tenant.used, cohort, demand);
    }
  }

  private protectStarving(): void {
    const now = this.snapshot.now.getTime();
    const heads: { tenant: TenantWork; entry: Entry }[] = [];
    for (const tenant of this.tenants.values()) {
      const head = tenant.queue[0];
      if (head && now - head.time >= this.threshold) heads.push({ tenant, entry: head });
    }
    heads.sort((a, b) => waitsLonger(a.entry, b.entry));
    for (const { tenant, entry } of heads) {
      tenant.cursor = 1;
      const result = this.evaluate(entry, tenant);
      if (typeof result === 'number') {
        this.admit(entry, tenant, result, true);
        continue;
      }
      if (result.reason === 'InsufficientCapacity') {
        const gang = entry.shape.gang;
        const nodes = gang
          ? gangReservation(this.room, this.setsToPlace(gang), this.scratchFree)
          : [this.reservationFor(entry)];
        for (const i of nodes) {
          if (i === undefined) continue;
          const reservation = {
            jobId: entry.job.id,
            tenantId: entry.job.tenantId,
            node: (this.usable[i] as NodeState).name,
          };
          this.reservedAt[i] = reservation;
          this.reservations.push(reservation);
        }
      }
      if (result.blocker.kind !== 'concurrency') tenant.heldBy = entry.job.id;
      this.wait(entry, result.reason, result.blocker);
    }
  }

  private fairShare(): void {
    const heap = new MinHeap<TenantWork>(
      (a, b) =>
        a.share < b.share ||
        (a.share === b.share &&
          (waitsLonger(a.queue[a.cursor] as Entry, b.queue[b.cursor] as Entry) ||
            a.index - b.index) < 0),
    );
    for (const tenant of this.tenants.values()) {
      if (!tenant.heldBy && tenant.cursor < tenant.queue.length) heap.push(tenant);
    }
    for (let tenant = heap.pop(); tenant; tenant = heap.pop()) {
      const entry = tenant.queue[tenant.cursor++] as Entry;
      const result = this.evaluate(entry, tenant);
      if (typeof result === 'number') {
        this.admit(entry, tenant, result, false);
      } else {
        this.wait(entry, result.reason, result.blocker);
        if (result.blocker.kind === 'concurrency') {
          // The limit only tightens within a cycle: the rest of the queue waits for the same.
          for (let i = tenant.cursor; i < tenant.queue.length; i++) {
            this.wait(tenant.queue[i] as Entry, result.reason, result.blocker);
          }
          tenant.cursor = tenant.queue.length;
        }
      }
      if (tenant.cursor < tenant.queue.length) heap.push(tenant);
    }
  }

  /** Jobs queued behind a starving job of their tenant. */
  private releaseHeld(): void {
    for (const tenant of this.tenants.values()) {
      if (!tenant.heldBy) continue;
      const blocker: Blocker = { kind: 'olderJob', jobId: tenant.heldBy };
      for (let i = tenant.cursor; i < tenant.queue.length; i++) {
        this.wait(tenant.queue[i] as Entry, 'WaitingForOlderJob', blocker);
      }
      tenant.cursor = tenant.queue.length;
    }
  }

  private evaluate(entry: Entry, tenant: TenantWork): Evaluation {
    const limits = tenant.state.limits;
    if (tenant.active >= limits.maxConcurrentJobs) {
      return {
        reason: 'ConcurrencyLimit',
        blocker: { kind: 'concurrency', active: tenant.active, limit: limits.maxConcurrentJobs },
      };
    }
    // A dimension the job does not request cannot block it, even if a lowered limit left the
    // tenant over quota there (Kubernetes' ResourceQuota behaves the same way).
    const r = entry.need;
    const used = tenant.used;
    const gpuType = entry.job.gpuType;
    const typeLimit =
      gpuType !== undefined && r.gpu > 0 ? tenant.state.gpuQuotaByType?.[gpuType] : undefined;
    const typeUsed = typeLimit === undefined ? 0 : (tenant.gpuByType.get(gpuType ?? '') ?? 0);
    const overType = typeLimit !== undefined && typeUsed + r.gpu > typeLimit;
    const tpuShort = tpuShortfalls(entry.job, r.tpu ?? 0, tenant);
    if (tenant.member) {
      // Shared usage changes as other members admit: computed afresh, never cached per shape.
      const shortfalls = cohortShortfalls(tenant.state, tenant.member, used, r);
      if (overType)
        shortfalls.push({
          resource: 'gpu',
          used: typeUsed,
          limit: typeLimit,
          needed: r.gpu,
          gpuType,
        });
      shortfalls.push(...tpuShort);
      if (shortfalls.length > 0) {
        return { reason: 'WaitingForQuota', blocker: { kind: 'quota', shortfalls } };
      }
    } else if (
      (r.cpuMillis > 0 && used.cpuMillis + r.cpuMillis > limits.cpuMillis) ||
      (r.memoryBytes > 0 && used.memoryBytes + r.memoryBytes > limits.memoryBytes) ||
      (r.gpu > 0 && used.gpu + r.gpu > limits.gpu) ||
      overType ||
      tpuShort.length > 0
    ) {
      let blocker = tenant.quota.get(entry.shape);
      if (!blocker) {
        const shortfalls: QuotaShortfall[] = RESOURCE_NAMES.filter(
          (name) => r[name] > 0 && used[name] + r[name] > limits[name],
        ).map((name) => ({
          resource: name,
          used: used[name],
          limit: limits[name],
          needed: r[name],
        }));
        if (overType) {
          shortfalls.push({
            resource: 'gpu',
            used: typeUsed,
            limit: typeLimit,
            needed: r.gpu,
            gpuType,
          });
        }
        shortfalls.push(...tpuShort);
        blocker = { kind: 'quota', shortfalls };
        tenant.quota.set(entry.shape, blocker);
      }
      return { reason: 'WaitingForQuota', blocker };
    }
    const node = this.place(entry);
    if (node >= 0) return node;
    // Details (closest node, reservations in the way) are filled in by describeCapacity().
    return {
      reason: 'InsufficientCapacity',
      blocker: { kind: 'capacity', needed: r, unavailable: [] },
    };
  }

  /**
   * First-fit for the job's shape; for a `prefer-spot` job, its spot variant and then its
   * on-demand one, recording the capacity that took it (`entry.capacity`).
   */
  private place(entry: Entry): number {
    const choices = entry.shape.choices;
    if (!choices) return this.placeShape(entry, entry.shape);
    for (const { capacity, shape } of choices) {
      const node = this.placeShape(entry, shape);
      if (node >= 0) {
        entry.capacity = capacity;
        return node;
      }
    }
    return -1;
  }

  private placeShape(entry: Entry, shape: Shape): number {
    return shape.gang ? this.placeGang(entry, shape.gang) : this.firstFit(entry, shape);
  }

  /**
   * Places every pod of a gang (gang.ts `tryGang`) and keeps the room they take, or takes
   * nothing and returns -1. Returns the first pod's node; `entry.placed` has them all for
   * `admit`, which the caller always calls next. The pod shapes' cursors move only when the gang
   * is placed: the nodes its pods passed then refuse them for good, whereas a failed gang gives
   * its room back. A gang shape that did not fit will not fit for the rest of the cycle (room
   * only shrinks), so it is tried once.
   */
  private placeGang(entry: Entry, gang: NonNullable<Shape['gang']>): number {
    if (gang.full) return -1;
    const trial = tryGang(this.room, entry.job.id, this.setsToPlace(gang), { keep: true });
    if (!trial.complete) {
      gang.full = true;
      return -1;
    }
    gang.sets.forEach(({ shape }, s) => {
      shape.cursor = Math.max(shape.cursor, trial.reached[s] as number);
    });
    entry.placed = trial.nodes;
    entry.placedSets = gang.sets;
    return trial.nodes[0]?.[0] ?? -1;
  }

  private setsToPlace(gang: NonNullable<Shape['gang']>): SetToPlace[] {
    return gang.sets.map(({ set, shape }) => ({ set, pod: shape.job, from: shape.cursor }));
  }

  /** The first usable node (by name) the job fits on now, or -1; see `Shape.cursor`. */
  private firstFit(entry: Entry, shape: Shape): number {
    const r = shape.job.resources;
    const n = this.usable.length;
    let i = shape.cursor;
    for (; i < n; i++) {
      const reservation = this.reservedAt[i];
      if (reservation && reservation.jobId !== entry.job.id) continue;
      if (
        (this.slots[i] as number) >= 1 &&
        r.cpuMillis <= (this.freeCpu[i] as number) &&
        r.memoryBytes <= (this.freeMemory[i] as number) &&
        r.gpu <= (this.freeGpu[i] as number) &&
        (r.tpu === undefined || r.tpu <= (this.freeTpu[i] as number)) &&
        nodeAccepts(shape.job, this.usable[i] as NodeState)
      )
        break;
    }
    shape.cursor = i;
    return i < n ? i : -1;
  }

  /**
   * Fills in the capacity blockers against the cluster as this cycle leaves it, which is what
   * a user asking "why" sees next. Done once at the end rather than on every failed fit: it
   * scans every node, and identical shapes share the answer.
   */
  private describeCapacity(): void {
    const own = new Map(this.reservations.map((r) => [r.jobId, r]));
    for (const entry of this.ranked) {
      if (entry.reason !== 'InsufficientCapacity') continue;
      const reservation = own.get(entry.job.id);
      let blocker = reservation ? undefined : entry.shape.capacity;
      if (!blocker) {
        blocker = this.capacityBlocker(entry, reservation);
        if (!reservation) entry.shape.capacity = blocker;
      }
      entry.blocker = blocker;
    }
  }

  private capacityBlocker(entry: Entry, own: Reservation | undefined): Blocker {
    if (entry.shape.gang) return this.gangBlocker(entry, entry.shape.gang, own);
    const job = entry.job;
    let best: { i: number; free: Resources; deficit: number } | undefined;
    let blockedBy: Reservation | undefined;
    this.usable.forEach((node, i) => {
      if (!nodeAccepts(job, node) || !fits(job.resources, node.allocatable)) return;
      const free = this.freeOf(i, this.scratchFree);
      const reservation = this.reservedAt[i];
      if (reservation && reservation.jobId !== job.id) {
        if (fits(job.resources, free) && (this.slots[i] as number) >= 1) blockedBy ??= reservation;
        return;
      }
      const d = deficit(job.resources, free, node.allocatable, this.podsOf(i, this.scratchPods));
      if (!best || d < best.deficit) best = { i, free: this.freeOf(i), deficit: d };
    });
    const blocker: Blocker = {
      kind: 'capacity',
      needed: job.resources,
      unavailable: nodesThatCouldFit(job, this.nodes)
        .filter((n) => !isUsable(n) || !nodeAccepts(job, n))
        .map((n) => n.name),
    };
    const found = best as { i: number; free: Resources } | undefined;
    if (found) {
      blocker.best = { node: (this.usable[found.i] as NodeState).name, free: found.free };
      const pods = this.podsOf(found.i);
      if (pods && pods.free < 1) blocker.best.pods = pods;
    }
    const reservation = own ?? blockedBy;
    if (reservation) blocker.reservation = reservation;
    return blocker;
  }

  /**
   * A gang's capacity blocker: how many pods of each set first-fit finds room for now (nodes
   * reserved for other jobs left out, the room given back), the nodes it reserves, and the
   * nodes that could hold one of its pods but are cordoned, NotReady or tainted.
   */
  private gangBlocker(
    entry: Entry,
    gang: NonNullable<Shape['gang']>,
    own: Reservation | undefined,
  ): Blocker {
    const trial = tryGang(this.room, entry.job.id, this.setsToPlace(gang), {
      keep: false,
      partial: true,
    });
    const unavailable = new Set<string>();
    for (const { shape } of gang.sets) {
      for (const n of nodesThatCouldFit(shape.job, this.nodes)) {
        if (!isUsable(n) || !nodeAccepts(shape.job, n)) unavailable.add(n.name);
      }
    }
    const blocker: Blocker = {
      kind: 'capacity',
      needed: entry.need,
      unavailable: [...unavailable].sort(compareStrings),
      gang: {
        sets: gang.sets.map(({ set }, s) => ({
          name: set.name,
          count: set.count,
          room: trial.nodes[s]?.length ?? 0,
        })),
        reserved: own
          ? this.reservations.filter((r) => r.jobId === own.jobId).map((r) => r.node)
          : [],
      },
    };
    if (own) {
      blocker.reservation = own;
    } else if (this.reservations.length > 0) {
      // Kept out by another job's reservation when the gang would fit with its nodes.
      const unreserved = { ...this.room, reservedFor: () => undefined };
      const sets = this.setsToPlace(gang);
      const fit = tryGang(unreserved, entry.job.id, sets, { keep: false });
      if (fit.complete) {
        const i = fit.nodes.flat().find((n) => this.reservedAt[n] !== undefined);
        if (i !== undefined) blocker.reservation = this.reservedAt[i];
      }
    }
    return blocker;
  }

  /** Room left on usable node `i`, in `into` when given (a scratch object for node scans). */
  private freeOf(i: number, into: Resources = { cpuMillis: 0, memoryBytes: 0, gpu: 0 }): Resources {
    into.cpuMillis = this.freeCpu[i] as number;
    into.memoryBytes = this.freeMemory[i] as number;
    into.gpu = this.freeGpu[i] as number;
    // TPU chips only on nodes that have them, so other nodes' room reads as before.
    if ((this.usable[i] as NodeState).allocatable.tpu !== undefined) into.tpu = this.freeTpu[i];
    else if (into.tpu !== undefined) delete into.tpu;
    return into;
  }

  /** A node's pod slots as this cycle leaves them; undefined when it has no pod limit. */
  private podsOf(
    i: number,
    into: { free: number; allocatable: number } = { free: 0, allocatable: 0 },
  ): { free: number; allocatable: number } | undefined {
    const pods = (this.usable[i] as NodeState).pods;
    if (!pods) return undefined;
    into.free = this.slots[i] as number;
    into.allocatable = pods.allocatable;
    return into;
  }

  /** The unreserved usable node, able to hold the job, that needs the least to drain. */
  private reservationFor(entry: Entry): number | undefined {
    const job = entry.job;
    let best: { i: number; deficit: number } | undefined;
    this.usable.forEach((node, i) => {
      if (this.reservedAt[i] || !nodeAccepts(job, node)) return;
      if (!fits(job.resources, node.allocatable) || node.pods?.allocatable === 0) return;
      const free = this.freeOf(i, this.scratchFree);
      const d = deficit(job.resources, free, node.allocatable, this.podsOf(i, this.scratchPods));
      if (!best || d < best.deficit) best = { i, deficit: d };
    });
    return (best as { i: number } | undefined)?.i;
  }

  private admit(entry: Entry, tenant: TenantWork, i: number, starving: boolean): void {
    const r = entry.need;
    const used = tenant.used;
    const borrowed = tenant.member !== undefined && borrows(tenant.state.limits, used, r);
    used.cpuMillis += r.cpuMillis;
    used.memoryBytes += r.memoryBytes;
    used.gpu += r.gpu;
    tenant.share = weightedShare(used, this.total, tenant.weight);
    tenant.active += 1;
    if (tenant.quota.size > 0) tenant.quota.clear();
    if (tenant.member) bookCohort(tenant.state, tenant.member, used, r);
    const gpuType = entry.job.gpuType;
    if (gpuType !== undefined && r.gpu > 0) {
      tenant.gpuByType.set(gpuType, (tenant.gpuByType.get(gpuType) ?? 0) + r.gpu);
    }
    const tpuType = entry.job.tpu?.type;
    if (tpuType !== undefined && (r.tpu ?? 0) > 0) {
      used.tpu = (used.tpu ?? 0) + (r.tpu as number);
      tenant.tpuByType.set(tpuType, (tenant.tpuByType.get(tpuType) ?? 0) + (r.tpu as number));
    }
    const admission: Admission = {
      jobId: entry.job.id,
      tenantId: entry.job.tenantId,
      node: (this.usable[i] as NodeState).name,
      starving,
    };
    if (entry.placedSets && entry.placed) {
      // placeGang already took its pods' room.
      admission.placements = placements(entry.placedSets, entry.placed, this.usable);
      const pools = slicePools(entry.placedSets, entry.placed, this.usable);
      if (pools.length > 0) admission.slicePools = pools;
    } else {
      this.freeCpu[i] = Math.max(0, (this.freeCpu[i] as number) - r.cpuMillis);
      this.freeMemory[i] = Math.max(0, (this.freeMemory[i] as number) - r.memoryBytes);
      this.freeGpu[i] = Math.max(0, (this.freeGpu[i] as number) - r.gpu);
      if (r.tpu !== undefined) this.freeTpu[i] = Math.max(0, (this.freeTpu[i] as number) - r.tpu);
      this.slots[i] = (this.slots[i] as number) - 1;
    }
    if (entry.capacity) admission.capacity = entry.capacity;
    if (borrowed) admission.borrowed = true;
    this.admitted.push(admission);
  }

  private wait(entry: Entry, reason: WaitReason, blocker: Blocker): void {
    entry.reason = reason;
    entry.blocker = blocker;
  }

  /** The waiting jobs in rank order, with their messages (shared by jobs with one blocker). */
  private waitingList(): Waiting[] {
    const messages = new Map<Blocker, string>();
    const waiting: Waiting[] = [];
    for (const { job, reason, blocker, position } of this.ranked) {
      if (!reason || !blocker) continue;
      // Only a job's own reservation makes a capacity message personal; such a blocker is
      // never shared (describeCapacity).
      let message = messages.get(blocker);
      if (message === undefined) {
        message = describeBlocker(job, blocker, this.threshold);
        if (blocker.kind !== 'capacity' || blocker.reservation?.jobId !== job.id)
          messages.set(blocker, message);
      }
      const clusterBound =
        reason === 'InsufficientCapacity' ||
        (blocker.kind === 'unschedulable' &&
          blocker.reasons.every((r) => r.kind === 'node' || r.kind === 'noSingleNode'));
      const w: Waiting = {
        jobId: job.id,
        tenantId: job.tenantId,
        reason,
        message,
        blocker,
        // A gang needs its pods together; the offload worker runs one pod.
        offloadCandidate:
          job.offloadPreference === 'required' ||
          (job.offloadPreference === 'allowed' && clusterBound && !isGang(job)),
      };
      if (position) w.position = position;
      waiting.push(w);
    }
    return waiting;
  }

  /**
   * Positions among jobs that can eventually run here: reservation holders first (they are
   * next by the starvation rule), then the order weighted DRF would hand out slots if every
   * job fitted, starting from what each tenant holds after this cycle.
   */
  private assignPositions(): void {
    const runnable = this.ranked.filter(
      (e) =>
        e.reason !== undefined &&
        e.reason !== 'Offload' &&
        e.reason !== 'Unschedulable' &&
        e.reason !== 'UnknownTenant',
    );
    const reservedIds = new Set(this.reservations.map((r) => r.jobId));
    const order: Entry[] = runnable.filter((e) => reservedIds.has(e.job.id)).sort(waitsLonger);
    interface Lane {
      index: number;
      weight: number;
      entries: Entry[];
      next: number;
      used: Resources;
      share: number;
    }
    const lanes = new Map<string, Lane>();
    for (const entry of runnable) {
      const tenant = this.tenants.get(entry.job.tenantId);
      if (!tenant || reservedIds.has(entry.job.id)) continue;
      let lane = lanes.get(entry.job.tenantId);
      if (!lane) {
        lane = {
          index: lanes.size,
          weight: tenant.weight,
          entries: [],
          next: 0,
          used: { ...tenant.used },
          share: tenant.share,
        };
        lanes.set(entry.job.tenantId, lane);
      }
      lane.entries.push(entry);
    }
    const heap = new MinHeap<Lane>(
      (a, b) =>
        a.share < b.share ||
        (a.share === b.share &&
          (waitsLonger(a.entries[a.next] as Entry, b.entries[b.next] as Entry) ||
            a.index - b.index) < 0),
    );
    for (const lane of lanes.values()) heap.push(lane);
    for (let lane = heap.pop(); lane; lane = heap.pop()) {
      const head = lane.entries[lane.next++] as Entry;
      const r = head.need;
      lane.used.cpuMillis += r.cpuMillis;
      lane.used.memoryBytes += r.memoryBytes;
      lane.used.gpu += r.gpu;
      lane.share = weightedShare(lane.used, this.total, lane.weight);
      order.push(head);
      if (lane.next < lane.entries.length) heap.push(lane);
    }
    const perTenant = new Map<string, number>();
    for (const entry of runnable) {
      const n = (perTenant.get(entry.job.tenantId) ?? 0) + 1;
      perTenant.set(entry.job.tenantId, n);
      entry.position = { tenant: n, global: 0 };
    }
    order.forEach((entry, i) => {
      if (entry.position) entry.position.global = i + 1;
    });
  }
}

/**
 * Interns shapes: jobs with the same requests, flavor, selector and tolerations share one
 * `Shape`. Most jobs have none of the last three; they are looked up by their three numbers,
 * without building a string key per job.
 */
class ShapeIndex {
  private readonly plain = new Map<number, Map<number, Map<number, Shape>>>();
  private readonly constrained = new Map<string, Shape>();
  private readonly gangs = new Map<string, Shape>();

  of(job: PendingJob): Shape {
    if (isGang(job)) return this.ofGang(job);
    const r = job.resources;
    if (!job.nodeSelector && !job.tolerations && !hasFlavor(job)) {
      let byMemory = this.plain.get(r.cpuMillis);
      if (!byMemory)
        this.plain.set(r.cpuMillis, (byMemory = new Map<number, Map<number, Shape>>()));
      let byGpu = byMemory.get(r.memoryBytes);
      if (!byGpu) byMemory.set(r.memoryBytes, (byGpu = new Map<number, Shape>()));
      let shape = byGpu.get(r.gpu);
      if (!shape) byGpu.set(r.gpu, (shape = { job, cursor: 0 }));
      return shape;
    }
    const key = `${r.cpuMillis}/${r.memoryBytes}/${r.gpu}/${job.gpuType ?? ''}/${job.capacity ?? 'any'}/${job.tpu ? `${job.tpu.type}/${job.tpu.topology}` : ''}/${JSON.stringify(job.nodeSelector ?? {})}/${JSON.stringify(job.tolerations ?? [])}`;
    let shape = this.constrained.get(key);
    if (!shape) {
      this.constrained.set(key, (shape = { job, cursor: 0 }));
      shape.choices = this.choicesOf(job);
    }
    return shape;
  }

  /** A `prefer-spot` job's variants, one per capacity it may be placed on: spot, then on-demand. */
  private choicesOf(job: PendingJob): Shape['choices'] {
    if (job.capacity !== 'prefer-spot') return undefined;
    return (['spot', 'on-demand'] as const).map((capacity) => ({
      capacity,
      shape: this.of({ ...job, capacity }),
    }));
  }

  /**
   * A gang's shape: its pod sets and constraints. Each set's pod is interned as a shape of its
   * own, so its first-fit cursor is shared with single jobs and other gangs asking the same.
   */
  private ofGang(job: PendingJob): Shape {
    const key = `${JSON.stringify(job.podSets)}/${job.gpuType ?? ''}/${job.capacity ?? 'any'}/${job.tpu ? `${job.tpu.type}/${job.tpu.topology}` : ''}/${JSON.stringify(job.nodeSelector ?? {})}/${JSON.stringify(job.tolerations ?? [])}`;
    let shape = this.gangs.get(key);
    if (!shape) {
      const sets = placementOrder(job.podSets ?? []).map((set) => ({
        set,
        shape: this.of(podOf(job, set)),
      }));
      shape = { job, cursor: 0, gang: { sets, full: false } };
      this.gangs.set(key, shape);
      shape.choices = this.choicesOf(job);
    }
    return shape;
  }
}

/** A gang's pods per set and node, from the usable-node index of each pod. */
function placements(
  sets: readonly { set: PodSet }[],
  placed: readonly number[][],
  usable: readonly NodeState[],
): PodPlacement[] {
  const result: PodPlacement[] = [];
  sets.forEach(({ set }, s) => {
    for (const i of placed[s] ?? []) {
      const node = (usable[i] as NodeState).name;
      const last = result[result.length - 1];
      if (last?.podSet === set.name && last.node === node) last.count += 1;
      else result.push({ podSet: set.name, node, count: 1 });
    }
  });
  return result;
}

/** The pool of each TPU slice placed (its first host's), slice after slice, set after set. */
function slicePools(
  sets: readonly { set: PodSet }[],
  placed: readonly number[][],
  usable: readonly NodeState[],
): string[] {
  const pools: string[] = [];
  sets.forEach(({ set }, s) => {
    if (set.slices === undefined || set.slices < 1) return;
    const hosts = Math.ceil(set.count / set.slices);
    const nodes = placed[s] ?? [];
    for (let k = 0; k < nodes.length; k += hosts)
      pools.push(poolOf(usable[nodes[k] as number] as NodeState));
  });
  return pools;
}

/** A job asking for more GPUs of its type than the tenant's whole quota for that type. */
function typeQuotaNeverFits(job: PendingJob, gpu: number, tenant: TenantState): NeverFitsReason[] {
  const type = job.gpuType;
  const limit = type === undefined ? undefined : tenant.gpuQuotaByType?.[type];
  if (type === undefined || limit === undefined || gpu <= limit) return [];
  return [
    {
      kind: 'quota',
      resource: 'gpu',
      requested: gpu,
      limit,
      message: `requests ${formatAmount('gpu', gpu)} of type ${type} but the tenant's whole ${type} quota is ${formatAmount('gpu', limit)}`,
    },
  ];
}

/**
 * The TPU quotas a job's chips (`chips`: every pod's, `jobTotal`) do not fit now: the tenant's
 * chips of all types (`tpuQuota`) and of the job's type (`tpuQuotaByType`), each counting what
 * its admitted and running jobs hold plus those admitted earlier in this cycle.
 */
function tpuShortfalls(job: PendingJob, chips: number, tenant: TenantWork): QuotaShortfall[] {
  const type = job.tpu?.type;
  if (type === undefined || chips <= 0) return [];
  const shortfalls: QuotaShortfall[] = [];
  const total = tenant.state.tpuQuota;
  const used = tenant.used.tpu ?? 0;
  if (total !== undefined && used + chips > total)
    shortfalls.push({ resource: 'tpu', used, limit: total, needed: chips });
  const typeLimit = tenant.state.tpuQuotaByType?.[type];
  const typeUsed = tenant.tpuByType.get(type) ?? 0;
  if (typeLimit !== undefined && typeUsed + chips > typeLimit)
    shortfalls.push({
      resource: 'tpu',
      used: typeUsed,
      limit: typeLimit,
      needed: chips,
      gpuType: type,
    });
  return shortfalls;
}

/**
 * A TPU job of `type` asking for more chips (every pod's) than the tenant may ever hold, of all
 * types or of its own. The gateway refuses such a job at submit with the same reasons.
 */
export function tpuQuotaNeverFits(
  type: string | undefined,
  chips: number,
  tenant: Pick<TenantState, 'tpuQuota' | 'tpuQuotaByType'>,
): NeverFitsReason[] {
  if (type === undefined || chips <= 0) return [];
  const reasons: NeverFitsReason[] = [];
  const total = tenant.tpuQuota;
  if (total !== undefined && chips > total)
    reasons.push({
      kind: 'quota',
      resource: 'tpu',
      requested: chips,
      limit: total,
      message: `requests ${formatAmount('tpu', chips)} but the tenant's whole tpu quota is ${formatAmount('tpu', total)}`,
    });
  const limit = tenant.tpuQuotaByType?.[type];
  if (limit !== undefined && chips > limit)
    reasons.push({
      kind: 'quota',
      resource: 'tpu',
      requested: chips,
      limit,
      message: `requests ${formatAmount('tpu', chips)} of type ${type} but the tenant's whole ${type} tpu quota is ${formatAmount('tpu', limit)}`,
    });
  return reasons;
}

/** "No room for the gang of 16 pods (…) now: room for 9 of 12 workers; …" */
function describeGangCapacity(
  job: PendingJob,
  blocker: Extract<Blocker, { kind: 'capacity' }>,
  gang: GangRoom,
  thresholdMs: number,
): string {
  const room = roomFor(gang.sets);
  const parts = [
    `No room for the ${describeGang(job)} now: ${room || 'room for every pod only on nodes reserved for other jobs'}`,
  ];
  if (blocker.unavailable.length > 0) {
    parts.push(`cordoned, NotReady or tainted: ${blocker.unavailable.join(', ')}`);
  }
  const r = blocker.reservation;
  if (r?.jobId === job.id) {
    parts.push(
      `it has waited over ${Math.round(thresholdMs / 60_000)}m, so ${gang.reserved.length === 1 ? 'node' : 'nodes'} ${gang.reserved.join(', ')} ${gang.reserved.length === 1 ? 'is' : 'are'} reserved for it and ${gang.reserved.length === 1 ? 'takes' : 'take'} no new jobs`,
    );
  } else if (r) {
    parts.push(`node ${r.node} has room but is reserved for starving job ${r.jobId}`);
  }
  return parts.join('; ');
}

/** The one-line `message` of a waiting job. */
export function describeBlocker(job: PendingJob, blocker: Blocker, thresholdMs: number): string {
  switch (blocker.kind) {
    case 'concurrency':
      return `Tenant ${job.tenantId} is at its concurrency limit (${blocker.active} of ${blocker.limit} jobs admitted or running)`;
    case 'quota': {
      const parts = blocker.shortfalls.map((s) => {
        const what = `${s.gpuType !== undefined ? `${s.gpuType} ` : ''}${resourceLabel(s.resource)} quota (${formatAmount(s.resource, s.used)} in use + ${formatAmount(s.resource, s.needed)} requested > ${formatAmount(s.resource, s.limit)} limit`;
        if (s.cohort !== undefined) {
          return `cohort ${s.cohort}'s ${what}: its members' guarantees, less what they hold and keep for their waiting jobs)`;
        }
        if (s.borrowing !== undefined) {
          return `${what}: ${formatAmount(s.resource, s.limit - s.borrowing)} guaranteed + ${formatAmount(s.resource, s.borrowing)} borrowing limit)`;
        }
        return `${what})`;
      });
      // The tenant's own quotas first, then the cohort's, each under its owner's name.
      const own = parts.filter((_, i) => blocker.shortfalls[i]?.cohort === undefined);
      const shared = parts.filter((_, i) => blocker.shortfalls[i]?.cohort !== undefined);
      const clauses = own.length > 0 ? [`tenant ${job.tenantId}'s ${own.join(' and ')}`] : [];
      return `Waiting for ${[...clauses, ...shared].join(' and ')}`;
    }
    case 'capacity': {
      if (blocker.gang) return describeGangCapacity(job, blocker, blocker.gang, thresholdMs);
      const parts = [`No usable node has room for ${formatResources(blocker.needed)} now`];
      if (blocker.best) {
        const pods = blocker.best.pods;
        parts.push(
          `closest is ${blocker.best.node} with ${formatResources(blocker.best.free)} free` +
            (pods ? ` but all ${pods.allocatable} of its pod slots taken` : ''),
        );
      } else if (blocker.unavailable.length > 0) {
        parts.push(
          `nodes large enough are cordoned, NotReady or tainted: ${blocker.unavailable.join(', ')}`,
        );
      }
      const r = blocker.reservation;
      if (r?.jobId === job.id) {
        parts.push(
          `it has waited over ${Math.round(thresholdMs / 60_000)}m, so node ${r.node} is reserved for it and takes no new jobs`,
        );
      } else if (r) {
        parts.push(`node ${r.node} has room but is reserved for starving job ${r.jobId}`);
      }
      return parts.join('; ');
    }
    case 'unschedulable':
      return `Can never run on this cluster: ${blocker.reasons.map((r) => r.message).join('; ')}`;
    case 'olderJob':
      return `Held behind job ${blocker.jobId} of tenant ${job.tenantId}, which has waited over ${Math.round(thresholdMs / 60_000)}m and goes first`;
    case 'offload':
      return 'Offload is required: not admitted to the cluster; the offload worker places it';
    case 'unknownTenant':
      return `Tenant ${job.tenantId} is unknown`;
  }
}
