import type { AdmissionDecision, QuotaShortfall } from './admission.js';
import { ceilingOf, cohortsOf, type CohortWork } from './borrowing.js';
import { isGang, jobTotal } from './gang.js';
import { compareStrings, isUsable, nodeAccepts, placementOrder, podOf } from './nodes.js';
import { RESOURCE_NAMES, resourceLabel, type Resources } from './resources.js';
import type { NodeState, PendingJob, RunningJob, Snapshot, TenantState } from './snapshot.js';
import { withTpuRequest } from './tpu.js';

/**
 * `ReclaimGuarantee`: a cohort member takes back idle guarantee another member borrowed.
 * `HigherPriority`: a tenant at its quota makes room for its own higher-priority job.
 */
export type PreemptionReason = 'ReclaimGuarantee' | 'HigherPriority';

export interface Preemption {
  /** The job to evict (admitted or running), and its tenant. */
  jobId: string;
  tenantId: string;
  reason: PreemptionReason;
  /** The waiting job it makes room for. */
  by: { jobId: string; tenantId: string; priority: number };
  /** What `/explain` and the `job.preempted` event say about the evicted job. */
  message: string;
  /**
   * Set when it was evicted to make room on nodes (the waiting job's quota had room, its nodes
   * were full): the nodes the waiting job is to run on.
   */
  nodes?: string[];
}

/** At most this many jobs are preempted per cycle, so one cycle's writes stay bounded. */
export const DEFAULT_MAX_PREEMPTIONS_PER_CYCLE = 64;

/**
 * At most this many jobs waiting for capacity are searched for victims per cycle (only jobs
 * that have some victim they may evict count), so a cycle with thousands of waiting jobs
 * stays cheap.
 */
export const DEFAULT_MAX_NODE_SEARCHES_PER_CYCLE = 16;

/** At most this many victims are weighed for one gang (its cheapest first). */
const MAX_GANG_CANDIDATES = 64;

export interface PreemptOptions {
  maxPreemptions?: number;
  maxNodeSearches?: number;
}

interface Candidate {
  tenant: TenantState;
  job: RunningJob;
}

/** Lowest priority first, then the newest admission (it loses least), then id. */
function victimOrder(a: Candidate, b: Candidate): number {
  return (
    a.job.priority - b.job.priority ||
    b.job.admittedAt.getTime() - a.job.admittedAt.getTime() ||
    compareStrings(a.job.id, b.job.id)
  );
}

const copy = (r: Resources): Resources => ({ ...r });

function addTo(into: Resources, r: Resources, sign: 1 | -1): void {
  into.cpuMillis += sign * r.cpuMillis;
  into.memoryBytes += sign * r.memoryBytes;
  into.gpu += sign * r.gpu;
}

/** `addTo` for room on a node, which counts TPU chips too. */
function addRoom(into: Resources, r: Resources, sign: 1 | -1): void {
  addTo(into, r, sign);
  into.tpu = (into.tpu ?? 0) + sign * (r.tpu ?? 0);
}

/**
 * The preemptions that follow from an admission decision (docs/scheduling.md#borrowing). Pure,
 * and separate from `decide` so that a cycle without cohorts or priorities costs nothing more:
 * the scheduler calls it after `decide` on the same snapshot and applies both.
 *
 * For each waiting job, in the decision's rank order:
 *
 * 1. **Reclaim.** If it waits for quota, its tenant is in a cohort, the job fits the tenant's own
 *    guarantee, and the cohort's pool is what is short, the cohort's *borrowed* work is evicted:
 *    running jobs of other members that hold more than their guarantee in a resource the job
 *    needs, lowest priority first, then newest first, while their tenant is still beyond its
 *    guarantee there.
 * 2. **Priority within a tenant.** Otherwise, if its tenant's own quota (or its cohort's pool, or
 *    its quota for the job's GPU type) is short, the tenant's own running jobs of lower priority
 *    are evicted, lowest first, then newest first (Kueue's `withinClusterQueue: LowerPriority`);
 *    for a GPU type's quota only jobs holding GPUs of that type count.
 * 3. **Room on nodes.** If it waits for capacity (its quota has room, its nodes are full), the
 *    jobs it may evict by the two rules above (the same tenant's lower priority; other members'
 *    borrowed work when the job fits its own guarantee) that sit on nodes it could use: for a
 *    single pod, the node that needs the fewest of them, cheapest first; for a gang, the
 *    cheapest until every pod is placed first-fit, then any it turns out not to need. Nothing is
 *    evicted unless the job then fits, flavor, selector, taints, pod slots and all.
 *
 * Victims are taken only when they free enough for the job, never some of what it needs; a job
 * is a victim once per cycle; the preemptor is booked as if admitted (on its nodes, for rule
 * 3), so the next waiting job does not count on the same room. Rules 1 and 2 reckon quota only:
 * if the room they free sits on nodes the job cannot use, rule 3 may act on a later cycle. TPU
 * quotas are not preempted for.
 */
export function preempt(
  snapshot: Snapshot,
  decision: AdmissionDecision,
  options: PreemptOptions = {},
): Preemption[] {
  const max = options.maxPreemptions ?? DEFAULT_MAX_PREEMPTIONS_PER_CYCLE;
  let searches = options.maxNodeSearches ?? DEFAULT_MAX_NODE_SEARCHES_PER_CYCLE;
  const withRunning = snapshot.tenants.some((t) => (t.runningJobs?.length ?? 0) > 0);
  if (!withRunning || max <= 0) return [];
  const tenants = new Map(snapshot.tenants.map((t) => [t.id, t]));
  const pending = new Map(snapshot.pending.map((j) => [j.id, j]));
  const used = new Map(snapshot.tenants.map((t) => [t.id, copy(t.running.resources)]));
  const usedByType = new Map(
    snapshot.tenants.map((t) => [t.id, new Map(Object.entries(t.running.gpuByType ?? {}))]),
  );
  const cohorts = cohortsOf(snapshot.tenants);
  const book = (tenant: TenantState, r: Resources, gpuType: string | undefined, sign: 1 | -1) => {
    addTo(used.get(tenant.id) as Resources, r, sign);
    if (gpuType !== undefined && r.gpu > 0) {
      const byType = usedByType.get(tenant.id) as Map<string, number>;
      byType.set(gpuType, (byType.get(gpuType) ?? 0) + sign * r.gpu);
    }
    const cohort = tenant.cohort === undefined ? undefined : cohorts.get(tenant.cohort);
    if (cohort) addTo(cohort.used, r, sign);
  };
  for (const admission of decision.admitted) {
    const job = pending.get(admission.jobId);
    const tenant = tenants.get(admission.tenantId);
    if (job && tenant) book(tenant, jobTotal(job), job.gpuType, 1);
  }
  const byTenant = new Map<string, Candidate[]>();
  const sorted = (t: TenantState): readonly Candidate[] => {
    let list = byTenant.get(t.id);
    if (!list) {
      list = (t.runningJobs ?? []).map((j) => ({ tenant: t, job: j })).sort(victimOrder);
      byTenant.set(t.id, list);
    }
    return list;
  };
  // The nodes' room, built when the first job waiting for capacity is searched.
  let room: NodeRoom | undefined;
  // Node searches that found nothing, by the job's shape: an identical job finds nothing
  // either until some victim is taken (then the room has changed and this is cleared).
  const fruitless = new Set<string>();
  const taken = new Set<string>();
  const out: Preemption[] = [];
  for (const waiting of decision.waiting) {
    if (out.length >= max) break;
    const job = pending.get(waiting.jobId);
    const tenant = tenants.get(waiting.tenantId);
    if (!job || !tenant) continue;
    const cohort = tenant.cohort === undefined ? undefined : cohorts.get(tenant.cohort);
    const ctx: Context = { snapshot, sorted, used, usedByType, taken, job, tenant, cohort };
    let plan: Plan | undefined;
    if (waiting.reason === 'WaitingForQuota' && waiting.blocker.kind === 'quota') {
      const shortfalls = waiting.blocker.shortfalls;
      // TPU quotas are the tenant's own caps: nothing is preempted for them.
      if (shortfalls.some((s) => s.resource === 'tpu')) continue;
      // A GPU type's quota is the tenant's own cap, not a guarantee: only rule 2 frees it.
      plan = shortfalls.some(isTypeShortfall)
        ? withinTenant(ctx)
        : (reclaim(ctx) ?? withinTenant(ctx));
    } else if (
      waiting.reason === 'InsufficientCapacity' &&
      waiting.blocker.kind === 'capacity' &&
      searches > 0
    ) {
      const eligible = nodeCandidates(ctx);
      if (eligible.length === 0) continue; // only jobs that can preempt are searched
      const key = searchKey(job);
      if (fruitless.has(key)) continue;
      searches--;
      room ??= nodeRoom(snapshot, decision, pending);
      plan = byNode(ctx, room, eligible);
      if (!plan) fruitless.add(key);
    }
    if (!plan || out.length + plan.victims.length > max) continue;
    fruitless.clear();
    for (const victim of plan.victims) {
      taken.add(victim.job.id);
      book(victim.tenant, victim.job.resources, victim.job.gpuType, -1);
      if (plan.nodes && room) free(room, victim.job);
      out.push({
        jobId: victim.job.id,
        tenantId: victim.tenant.id,
        reason: reasonOf(victim, tenant),
        by: { jobId: job.id, tenantId: tenant.id, priority: job.priority },
        message: preemptionMessage(
          reasonOf(victim, tenant),
          job,
          victim.job,
          plan.short,
          plan.nodes,
        ),
        ...(plan.nodes ? { nodes: plan.nodes } : {}),
      });
    }
    if (plan.nodes && room && plan.placed) place(room, plan.placed);
    book(tenant, jobTotal(job), job.gpuType, 1);
  }
  return out;
}

/** What a node search depends on in a job, besides the cycle's room and victims. */
const searchKey = (j: PendingJob): string =>
  JSON.stringify([
    j.tenantId,
    j.priority,
    j.resources,
    j.podSets,
    j.gpuType,
    j.capacity,
    j.tpu,
    j.nodeSelector,
    j.tolerations,
  ]);

const isTypeShortfall = (s: QuotaShortfall): boolean =>
  s.gpuType !== undefined && s.resource === 'gpu';

/** The tenant's own job goes for priority; another member's for reclaim. */
const reasonOf = (victim: Candidate, by: TenantState): PreemptionReason =>
  victim.tenant.id === by.id ? 'HigherPriority' : 'ReclaimGuarantee';

interface Context {
  snapshot: Snapshot;
  /** A tenant's running jobs in victim order (sorted once per cycle). */
  sorted: (tenant: TenantState) => readonly Candidate[];
  used: Map<string, Resources>;
  usedByType: Map<string, Map<string, number>>;
  taken: Set<string>;
  job: PendingJob;
  tenant: TenantState;
  cohort: CohortWork | undefined;
}

interface Plan {
  reason: PreemptionReason;
  victims: Candidate[];
  /** The quotas that were short (for the message): `cpu`, `nvidia-l4 gpu`. */
  short: string[];
  /** Rule 3: the nodes the job is to run on, and its pods' room on them to book. */
  nodes?: string[];
  placed?: PlacedPod[];
}

/** Borrowed work of other members, when the job fits its own guarantee and the pool is short. */
function reclaim({
  snapshot,
  sorted,
  used,
  taken,
  job,
  tenant,
  cohort,
}: Context): Plan | undefined {
  if (!cohort) return undefined;
  const r = jobTotal(job);
  const mine = used.get(tenant.id) as Resources;
  if (RESOURCE_NAMES.some((d) => r[d] > 0 && mine[d] + r[d] > tenant.limits[d])) return undefined;
  const need = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };
  for (const d of RESOURCE_NAMES) {
    if (r[d] > 0) need[d] = cohort.used[d] + r[d] - cohort.guarantee[d];
  }
  const short = RESOURCE_NAMES.filter((d) => need[d] > 0);
  if (short.length === 0) return undefined;
  const members = snapshot.tenants.filter((t) => t.cohort === cohort.name && t.id !== tenant.id);
  const left = new Map(members.map((t) => [t.id, copy(used.get(t.id) as Resources)]));
  const candidates = members
    .flatMap((t) => sorted(t))
    .filter((c) => !taken.has(c.job.id))
    .sort(victimOrder);
  const victims: Candidate[] = [];
  for (const candidate of candidates) {
    const holds = left.get(candidate.tenant.id) as Resources;
    const helps = RESOURCE_NAMES.some(
      (d) => need[d] > 0 && candidate.job.resources[d] > 0 && holds[d] > candidate.tenant.limits[d],
    );
    if (!helps) continue;
    victims.push(candidate);
    addTo(holds, candidate.job.resources, -1);
    addTo(need, candidate.job.resources, -1);
    if (RESOURCE_NAMES.every((d) => need[d] <= 0)) {
      return { reason: 'ReclaimGuarantee', victims, short: short.map(resourceLabel) };
    }
  }
  return undefined;
}

/**
 * The tenant's own lower-priority jobs, when its quota (or its cohort's pool, or its quota for
 * the job's GPU type) is short. For the type's quota only jobs holding GPUs of that type help.
 */
function withinTenant(ctx: Context): Plan | undefined {
  const { used, usedByType, taken, job, tenant, cohort } = ctx;
  const candidates = ctx.sorted(tenant);
  // Lowest priority first: none below the job's means none at all.
  if (candidates.length === 0 || (candidates[0] as Candidate).job.priority >= job.priority)
    return undefined;
  const r = jobTotal(job);
  const mine = used.get(tenant.id) as Resources;
  const need = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };
  for (const d of RESOURCE_NAMES) {
    if (r[d] <= 0) continue;
    const ceiling = cohort ? ceilingOf(tenant, cohort, d) : tenant.limits[d];
    need[d] = mine[d] + r[d] - ceiling;
    if (cohort) need[d] = Math.max(need[d], cohort.used[d] + r[d] - cohort.guarantee[d]);
  }
  const type = job.gpuType;
  const typeLimit = type !== undefined && r.gpu > 0 ? tenant.gpuQuotaByType?.[type] : undefined;
  let needType =
    typeLimit === undefined
      ? 0
      : ((usedByType.get(tenant.id) as Map<string, number>).get(type as string) ?? 0) +
        r.gpu -
        typeLimit;
  const short: string[] = RESOURCE_NAMES.filter((d) => need[d] > 0).map(resourceLabel);
  if (needType > 0) short.push(`${type as string} gpu`);
  if (short.length === 0) return undefined;
  const victims: Candidate[] = [];
  for (const candidate of candidates) {
    const v = candidate.job;
    if (v.priority >= job.priority) break;
    if (taken.has(v.id)) continue;
    const freesType = needType > 0 && v.gpuType === type && v.resources.gpu > 0;
    if (!freesType && !RESOURCE_NAMES.some((d) => need[d] > 0 && v.resources[d] > 0)) continue;
    victims.push(candidate);
    addTo(need, v.resources, -1);
    if (v.gpuType === type) needType -= v.resources.gpu;
    if (needType <= 0 && RESOURCE_NAMES.every((d) => need[d] <= 0))
      return { reason: 'HigherPriority', victims, short };
  }
  return undefined;
}

/*
 * Rule 3, room on nodes. The cycle's room is the usable nodes' free resources and pod slots,
 * less what this cycle's admissions took (decide placed them; the snapshot's nodes do not yet
 * hold them), kept up to date as victims leave and preemptors are booked.
 */

interface NodeRoom {
  /** Usable nodes by name. */
  usable: NodeState[];
  index: Map<string, number>;
  free: Resources[];
  slots: number[];
  /** The job a node is reserved for (a starving job), if any. */
  reservedFor: Map<string, string>;
}

interface PlacedPod {
  node: number;
  resources: Resources;
}

function nodeRoom(
  snapshot: Snapshot,
  decision: AdmissionDecision,
  pending: Map<string, PendingJob>,
): NodeRoom {
  const usable = snapshot.nodes.filter(isUsable).sort((a, b) => compareStrings(a.name, b.name));
  const room: NodeRoom = {
    usable,
    index: new Map(usable.map((n, i) => [n.name, i])),
    free: usable.map((n) => ({
      cpuMillis: n.allocatable.cpuMillis - n.requested.cpuMillis,
      memoryBytes: n.allocatable.memoryBytes - n.requested.memoryBytes,
      gpu: n.allocatable.gpu - n.requested.gpu,
      tpu: (n.allocatable.tpu ?? 0) - (n.requested.tpu ?? 0),
    })),
    slots: usable.map((n) => (n.pods ? n.pods.allocatable - n.pods.used : Infinity)),
    reservedFor: new Map(decision.reservations.map((r) => [r.node, r.jobId])),
  };
  // Pods on their way out (an earlier preemption's victims): their room is coming back.
  for (const pod of snapshot.releasing ?? []) {
    const i = room.index.get(pod.node);
    if (i !== undefined) take(room, i, pod.resources, -1);
  }
  for (const admission of decision.admitted) {
    const found = pending.get(admission.jobId);
    if (!found) continue;
    const job = withTpuRequest(found, snapshot.nodes);
    const placements = admission.placements ?? [{ podSet: '', node: admission.node, count: 1 }];
    for (const p of placements) {
      const i = room.index.get(p.node);
      const set = job.podSets?.find((s) => s.name === p.podSet);
      const pod = set ? set.resources : job.resources;
      if (i === undefined) continue;
      for (let k = 0; k < p.count; k++) take(room, i, pod, 1);
    }
  }
  return room;
}

function take(room: NodeRoom, i: number, r: Resources, sign: 1 | -1): void {
  const free = room.free[i] as Resources;
  addRoom(free, r, -sign as 1 | -1);
  room.slots[i] = (room.slots[i] as number) - sign;
}

/** Gives back the room of a victim's pods. */
function free(room: NodeRoom, victim: RunningJob): void {
  for (const pod of victim.pods ?? []) {
    const i = room.index.get(pod.node);
    if (i !== undefined) take(room, i, pod.resources, -1);
  }
}

function place(room: NodeRoom, placed: readonly PlacedPod[]): void {
  for (const pod of placed) take(room, pod.node, pod.resources, 1);
}

const fitsIn = (r: Resources, free: Resources, slots: number): boolean =>
  slots >= 1 &&
  r.cpuMillis <= free.cpuMillis &&
  r.memoryBytes <= free.memoryBytes &&
  r.gpu <= free.gpu &&
  (r.tpu ?? 0) <= (free.tpu ?? 0);

/**
 * The running jobs a job waiting for capacity may evict, cheapest first: its tenant's own of
 * lower priority, and, when the job fits its tenant's own guarantee, other members' while their
 * tenant is beyond its guarantee. Only jobs with pods on some node.
 */
function nodeCandidates({
  snapshot,
  sorted,
  used,
  taken,
  job,
  tenant,
  cohort,
}: Context): Candidate[] {
  const out: Candidate[] = [];
  for (const c of sorted(tenant)) {
    if (c.job.priority >= job.priority) break;
    if (!taken.has(c.job.id) && (c.job.pods?.length ?? 0) > 0) out.push(c);
  }
  if (cohort) {
    const r = jobTotal(job);
    const mine = used.get(tenant.id) as Resources;
    const withinGuarantee = RESOURCE_NAMES.every(
      (d) => r[d] <= 0 || mine[d] + r[d] <= tenant.limits[d],
    );
    if (withinGuarantee) {
      for (const t of snapshot.tenants) {
        if (t.cohort !== cohort.name || t.id === tenant.id) continue;
        const holds = used.get(t.id) as Resources;
        if (!RESOURCE_NAMES.some((d) => r[d] > 0 && holds[d] > t.limits[d])) continue;
        for (const c of sorted(t)) {
          if (!taken.has(c.job.id) && (c.job.pods?.length ?? 0) > 0) out.push(c);
        }
      }
      return out.sort(victimOrder);
    }
  }
  return out; // already in victim order
}

/**
 * Picks victims from `eligible` (cheapest first) as they keep their rule: another member's job
 * only while its tenant is still beyond its guarantee in a resource that job holds and the
 * waiting job needs.
 */
class Borrowed {
  private readonly left = new Map<string, Resources>();
  constructor(
    private readonly used: Map<string, Resources>,
    private readonly by: TenantState,
    /** What the waiting job asks for: only borrowing of those resources is reclaimed. */
    private readonly needs: Resources,
  ) {}

  mayTake(c: Candidate): boolean {
    if (c.tenant.id === this.by.id) return true;
    const holds = this.left.get(c.tenant.id) ?? copy(this.used.get(c.tenant.id) as Resources);
    return RESOURCE_NAMES.some(
      (d) => this.needs[d] > 0 && c.job.resources[d] > 0 && holds[d] > c.tenant.limits[d],
    );
  }

  take(c: Candidate): void {
    if (c.tenant.id === this.by.id) return;
    const holds = this.left.get(c.tenant.id) ?? copy(this.used.get(c.tenant.id) as Resources);
    addTo(holds, c.job.resources, -1);
    this.left.set(c.tenant.id, holds);
  }
}

/** Rule 3 for one waiting job: the victims that let it fit on nodes, or nothing. */
function byNode(ctx: Context, room: NodeRoom, eligible: readonly Candidate[]): Plan | undefined {
  const job = withTpuRequest(ctx.job, ctx.snapshot.nodes);
  // A multi-host TPU slice takes a whole pool of its own (gang.ts), which first-fit over the
  // freed room does not model: such a job waits for capacity (docs/scheduling.md#borrowing).
  if (job.podSets?.some((set) => set.name === 'slice' || (set.slices ?? 0) > 0)) return undefined;
  const sets = placementOrder(job.podSets ?? []);
  // One pod object per set, so that what a node accepts is asked once per set.
  const pods = isGang(job)
    ? sets.flatMap((set) => {
        const pod = podOf(job, set);
        return Array.from({ length: set.count }, () => pod);
      })
    : [job];
  const asked = new Map<PendingJob, Map<number, boolean>>();
  // Nodes the job could use: usable, of its flavor, selector and taints, not held for another.
  const accepts = (pod: PendingJob, i: number): boolean => {
    let answers = asked.get(pod);
    if (!answers) asked.set(pod, (answers = new Map<number, boolean>()));
    let ok = answers.get(i);
    if (ok === undefined) {
      const node = room.usable[i] as NodeState;
      const reserved = room.reservedFor.get(node.name);
      ok = (reserved === undefined || reserved === job.id) && nodeAccepts(pod, node);
      answers.set(i, ok);
    }
    return ok;
  };
  const plan =
    pods.length === 1
      ? onOneNode(ctx, room, eligible, pods[0] as PendingJob, accepts)
      : gang(ctx, room, eligible, pods, accepts);
  if (!plan || !quotaAllows(ctx, plan.victims)) return undefined;
  return plan;
}

/** A single pod: per node it could use, the cheapest victims there; the node needing fewest. */
function onOneNode(
  ctx: Context,
  room: NodeRoom,
  eligible: readonly Candidate[],
  pod: PendingJob,
  accepts: (pod: PendingJob, i: number) => boolean,
): Plan | undefined {
  const onNode = new Map<number, Candidate[]>();
  for (const c of eligible) {
    for (const i of new Set((c.job.pods ?? []).map((p) => room.index.get(p.node)))) {
      if (i === undefined) continue;
      let list = onNode.get(i);
      if (!list) onNode.set(i, (list = []));
      list.push(c); // eligible is in victim order, so each list is too
    }
  }
  // Room it can use already (or once the pods on their way out are gone): nothing to evict.
  for (let i = 0; i < room.usable.length; i++) {
    if (
      fitsIn(pod.resources, room.free[i] as Resources, room.slots[i] as number) &&
      accepts(pod, i)
    )
      return undefined;
  }
  let best: { i: number; victims: Candidate[] } | undefined;
  for (const [i, candidates] of onNode) {
    if (!accepts(pod, i)) continue;
    const free = { ...(room.free[i] as Resources) };
    let slots = room.slots[i] as number;
    const borrowed = new Borrowed(ctx.used, ctx.tenant, jobTotal(ctx.job));
    const victims: Candidate[] = [];
    for (const c of candidates) {
      if (fitsIn(pod.resources, free, slots)) break;
      if (best && victims.length >= best.victims.length) break;
      if (!borrowed.mayTake(c)) continue;
      borrowed.take(c);
      victims.push(c);
      for (const p of c.job.pods ?? []) {
        if (p.node !== (room.usable[i] as NodeState).name) continue;
        addRoom(free, p.resources, 1);
        slots++;
      }
    }
    if (!fitsIn(pod.resources, free, slots) || victims.length === 0) continue;
    if (!best || cheaper(victims, i, best.victims, best.i, room)) best = { i, victims };
  }
  if (!best) return undefined;
  return {
    reason: 'HigherPriority',
    victims: best.victims,
    short: [],
    nodes: [(room.usable[best.i] as NodeState).name],
    placed: [{ node: best.i, resources: pod.resources }],
  };
}

/** Fewer victims, then the least priority taken (the highest of them lower), then node name. */
function cheaper(a: Candidate[], ai: number, b: Candidate[], bi: number, room: NodeRoom): boolean {
  if (a.length !== b.length) return a.length < b.length;
  const top = (v: Candidate[]) => Math.max(...v.map((c) => c.job.priority));
  if (top(a) !== top(b)) return top(a) < top(b);
  return (
    compareStrings((room.usable[ai] as NodeState).name, (room.usable[bi] as NodeState).name) < 0
  );
}

/**
 * A gang: its cheapest eligible victims one by one until every pod is placed first-fit on the
 * room they leave, then each of those, costliest first, left alone if the gang fits without it.
 */
function gang(
  ctx: Context,
  room: NodeRoom,
  eligible: readonly Candidate[],
  pods: readonly PendingJob[],
  accepts: (pod: PendingJob, i: number) => boolean,
): Plan | undefined {
  const usable = new Map<number, boolean>();
  const anyPod = (i: number): boolean => {
    let ok = usable.get(i);
    if (ok === undefined) usable.set(i, (ok = pods.some((pod) => accepts(pod, i))));
    return ok;
  };
  // Only victims on a node some pod of the gang could use can help.
  const useful = eligible
    .filter((c) =>
      (c.job.pods ?? []).some((p) => {
        const i = room.index.get(p.node);
        return i !== undefined && anyPod(i);
      }),
    )
    .slice(0, MAX_GANG_CANDIDATES);
  const nodes = room.usable.map((_, i) => i).filter(anyPod);
  // The victims in order as they keep their rule, then the shortest prefix of them that lets
  // every pod fit (more room never hurts first-fit here but for its order: a binary search).
  const borrowed = new Borrowed(ctx.used, ctx.tenant, jobTotal(ctx.job));
  const order: Candidate[] = [];
  for (const c of useful) {
    if (!borrowed.mayTake(c)) continue;
    borrowed.take(c);
    order.push(c);
  }
  // The gang fits without victims (once the pods on their way out are gone): nothing to evict.
  if (placeGang(room, [], pods, accepts, nodes)) return undefined;
  if (!placeGang(room, order, pods, accepts, nodes)) return undefined;
  let lo = 1;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (placeGang(room, order.slice(0, mid), pods, accepts, nodes)) hi = mid;
    else lo = mid + 1;
  }
  let victims = order.slice(0, lo);
  let placed = placeGang(room, victims, pods, accepts, nodes);
  if (!placed) {
    victims = order;
    placed = placeGang(room, victims, pods, accepts, nodes);
    if (!placed) return undefined;
  }
  for (let k = victims.length - 1; k >= 0 && victims.length > 1; k--) {
    const without = victims.filter((_, j) => j !== k);
    const fits = placeGang(room, without, pods, accepts, nodes);
    if (fits) {
      victims = without;
      placed = fits;
    }
  }
  const madeRoom = [...new Set(placed.map((p) => p.node))]
    .filter((i) =>
      victims.some((v) => (v.job.pods ?? []).some((p) => room.index.get(p.node) === i)),
    )
    .sort((a, b) => a - b)
    .map((i) => (room.usable[i] as NodeState).name);
  return { reason: 'HigherPriority', victims, short: [], nodes: madeRoom, placed };
}

/** First-fit of every pod on the room with the victims gone; undefined when one does not fit. */
function placeGang(
  room: NodeRoom,
  victims: readonly Candidate[],
  pods: readonly PendingJob[],
  accepts: (pod: PendingJob, i: number) => boolean,
  nodes: readonly number[],
): PlacedPod[] | undefined {
  const free = new Map<number, { free: Resources; slots: number }>();
  const at = (i: number) => {
    let f = free.get(i);
    if (!f)
      free.set(
        i,
        (f = { free: { ...(room.free[i] as Resources) }, slots: room.slots[i] as number }),
      );
    return f;
  };
  for (const v of victims) {
    for (const p of v.job.pods ?? []) {
      const i = room.index.get(p.node);
      if (i === undefined) continue;
      const f = at(i);
      addRoom(f.free, p.resources, 1);
      f.slots++;
    }
  }
  const placed: PlacedPod[] = [];
  for (const pod of pods) {
    let done = false;
    for (let k = 0; k < nodes.length && !done; k++) {
      const i = nodes[k] as number;
      const f = free.get(i) ?? { free: room.free[i] as Resources, slots: room.slots[i] as number };
      if (!fitsIn(pod.resources, f.free, f.slots) || !accepts(pod, i)) continue;
      const g = at(i);
      addRoom(g.free, pod.resources, -1);
      g.slots--;
      placed.push({ node: i, resources: pod.resources });
      done = true;
    }
    if (!done) return undefined;
  }
  return placed;
}

/**
 * The job's quota still has room once the victims go: decide said so, but an earlier preemptor
 * of this cycle may have been booked since.
 */
function quotaAllows(ctx: Context, victims: readonly Candidate[]): boolean {
  const { tenant, cohort, job } = ctx;
  const r = jobTotal(job);
  const mine = copy(ctx.used.get(tenant.id) as Resources);
  const pool = cohort ? copy(cohort.used) : undefined;
  let typeUsed =
    job.gpuType === undefined
      ? 0
      : ((ctx.usedByType.get(tenant.id) as Map<string, number>).get(job.gpuType) ?? 0);
  for (const v of victims) {
    if (v.tenant.id === tenant.id) addTo(mine, v.job.resources, -1);
    if (v.tenant.id === tenant.id && v.job.gpuType === job.gpuType) typeUsed -= v.job.resources.gpu;
    if (pool) addTo(pool, v.job.resources, -1);
  }
  const typeLimit = job.gpuType === undefined ? undefined : tenant.gpuQuotaByType?.[job.gpuType];
  if (typeLimit !== undefined && r.gpu > 0 && typeUsed + r.gpu > typeLimit) return false;
  return RESOURCE_NAMES.every((d) => {
    if (r[d] <= 0) return true;
    const ceiling = cohort ? ceilingOf(tenant, cohort, d) : tenant.limits[d];
    if (mine[d] + r[d] > ceiling) return false;
    return !pool || !cohort || pool[d] + r[d] <= cohort.guarantee[d];
  });
}

/** "Preempted by job b-1 of tenant b reclaiming its guaranteed gpu quota in cohort research". */
export function preemptionMessage(
  reason: PreemptionReason,
  by: PendingJob,
  victim: RunningJob,
  short: readonly string[],
  nodes?: readonly string[],
): string {
  if (nodes) {
    const where = `node${nodes.length === 1 ? '' : 's'} ${nodes.join(', ')}`;
    const why =
      reason === 'ReclaimGuarantee'
        ? `within its tenant's guaranteed quota, while this job ran on borrowed quota`
        : `with higher priority (${by.priority} > ${victim.priority})`;
    return `Preempted to make room on ${where} for job ${by.id} of tenant ${by.tenantId}, ${why}: its quota had room but those nodes were full; requeued without using a retry`;
  }
  const quota = `${short.join(' and ')} quota`;
  switch (reason) {
    case 'ReclaimGuarantee':
      return `Preempted by job ${by.id} of tenant ${by.tenantId} reclaiming its guaranteed ${quota}, which this job had borrowed; requeued without using a retry`;
    case 'HigherPriority':
      return `Preempted by job ${by.id} of tenant ${by.tenantId} with higher priority (${by.priority} > ${victim.priority}) at the tenant's ${quota}; requeued without using a retry`;
  }
}
