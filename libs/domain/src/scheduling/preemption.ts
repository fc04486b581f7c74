import type { AdmissionDecision } from './admission.js';
import { cohortsOf, type CohortWork } from './borrowing.js';
import { compareStrings } from './nodes.js';
import { RESOURCE_NAMES, type ResourceName, resourceLabel, type Resources } from './resources.js';
import type { PendingJob, RunningJob, Snapshot, TenantState } from './snapshot.js';

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
}

/** At most this many jobs are preempted per cycle, so one cycle's writes stay bounded. */
export const DEFAULT_MAX_PREEMPTIONS_PER_CYCLE = 64;

export interface PreemptOptions {
  maxPreemptions?: number;
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

/**
 * The preemptions that follow from an admission decision (docs/scheduling.md#borrowing). Pure,
 * and separate from `decide` so that a cycle without cohorts or priorities costs nothing more:
 * the scheduler calls it after `decide` on the same snapshot and applies both.
 *
 * For each job waiting for quota, in the decision's rank order:
 *
 * 1. **Reclaim.** If its tenant is in a cohort, the job fits the tenant's own guarantee, and the
 *    cohort's pool is what is short, the cohort's *borrowed* work is evicted: running jobs of
 *    other members that hold more than their guarantee in a resource the job needs, lowest
 *    priority first, then newest first, while their tenant is still beyond its guarantee there.
 * 2. **Priority within a tenant.** Otherwise, if its tenant's own quota (or its cohort's pool) is
 *    short, the tenant's own running jobs of lower priority are evicted, lowest first, then newest
 *    first (Kueue's `withinClusterQueue: LowerPriority`).
 *
 * Victims are taken only when they free enough for the job, never some of what it needs; a job
 * is a victim once per cycle; the preemptor is booked as if admitted, so the next waiting job
 * does not count on the same room. Only quota is reckoned: if the freed room sits on nodes the
 * job cannot use, it waits for capacity like any other job. GPU type quotas are not reclaimed.
 */
export function preempt(
  snapshot: Snapshot,
  decision: AdmissionDecision,
  options: PreemptOptions = {},
): Preemption[] {
  const max = options.maxPreemptions ?? DEFAULT_MAX_PREEMPTIONS_PER_CYCLE;
  const withRunning = snapshot.tenants.some((t) => (t.runningJobs?.length ?? 0) > 0);
  if (!withRunning || max <= 0) return [];
  const tenants = new Map(snapshot.tenants.map((t) => [t.id, t]));
  const pending = new Map(snapshot.pending.map((j) => [j.id, j]));
  const used = new Map(snapshot.tenants.map((t) => [t.id, copy(t.running.resources)]));
  const cohorts = cohortsOf(snapshot.tenants);
  const book = (tenant: TenantState, r: Resources, sign: 1 | -1): void => {
    addTo(used.get(tenant.id) as Resources, r, sign);
    const cohort = tenant.cohort === undefined ? undefined : cohorts.get(tenant.cohort);
    if (cohort) addTo(cohort.used, r, sign);
  };
  for (const admission of decision.admitted) {
    const job = pending.get(admission.jobId);
    const tenant = tenants.get(admission.tenantId);
    if (job && tenant) book(tenant, job.resources, 1);
  }
  const taken = new Set<string>();
  const out: Preemption[] = [];
  for (const waiting of decision.waiting) {
    if (waiting.reason !== 'WaitingForQuota' || waiting.blocker.kind !== 'quota') continue;
    // Type and TPU quotas are the tenant's own caps, not guarantees: nothing is reclaimed for them.
    if (waiting.blocker.shortfalls.some((s) => s.gpuType !== undefined || s.resource === 'tpu'))
      continue;
    const job = pending.get(waiting.jobId);
    const tenant = tenants.get(waiting.tenantId);
    if (!job || !tenant) continue;
    const cohort = tenant.cohort === undefined ? undefined : cohorts.get(tenant.cohort);
    const ctx: Context = { snapshot, used, taken, job, tenant, cohort };
    const plan = reclaim(ctx) ?? withinTenant(ctx);
    if (!plan || out.length + plan.victims.length > max) continue;
    for (const victim of plan.victims) {
      taken.add(victim.job.id);
      book(victim.tenant, victim.job.resources, -1);
      out.push({
        jobId: victim.job.id,
        tenantId: victim.tenant.id,
        reason: plan.reason,
        by: { jobId: job.id, tenantId: tenant.id, priority: job.priority },
        message: preemptionMessage(plan.reason, job, victim.job, plan.short),
      });
    }
    book(tenant, job.resources, 1);
  }
  return out;
}

interface Context {
  snapshot: Snapshot;
  used: Map<string, Resources>;
  taken: Set<string>;
  job: PendingJob;
  tenant: TenantState;
  cohort: CohortWork | undefined;
}

interface Plan {
  reason: PreemptionReason;
  victims: Candidate[];
  /** The resources that were short (for the message). */
  short: ResourceName[];
}

/** Borrowed work of other members, when the job fits its own guarantee and the pool is short. */
function reclaim({ snapshot, used, taken, job, tenant, cohort }: Context): Plan | undefined {
  if (!cohort) return undefined;
  const r = job.resources;
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
    .flatMap((t) => (t.runningJobs ?? []).map((j) => ({ tenant: t, job: j })))
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
      return { reason: 'ReclaimGuarantee', victims, short };
    }
  }
  return undefined;
}

/** The tenant's own lower-priority jobs, when its quota (or its cohort's pool) is short. */
function withinTenant({ used, taken, job, tenant, cohort }: Context): Plan | undefined {
  const candidates = (tenant.runningJobs ?? [])
    .filter((j) => j.priority < job.priority && !taken.has(j.id))
    .map((j) => ({ tenant, job: j }))
    .sort(victimOrder);
  if (candidates.length === 0) return undefined;
  const r = job.resources;
  const mine = used.get(tenant.id) as Resources;
  const need = { cpuMillis: 0, memoryBytes: 0, gpu: 0 };
  for (const d of RESOURCE_NAMES) {
    if (r[d] <= 0) continue;
    const ceiling = cohort
      ? Math.min(tenant.limits[d] + (tenant.borrowingLimit?.[d] ?? Infinity), cohort.guarantee[d])
      : tenant.limits[d];
    need[d] = mine[d] + r[d] - ceiling;
    if (cohort) need[d] = Math.max(need[d], cohort.used[d] + r[d] - cohort.guarantee[d]);
  }
  const short = RESOURCE_NAMES.filter((d) => need[d] > 0);
  if (short.length === 0) return undefined;
  const victims: Candidate[] = [];
  for (const candidate of candidates) {
    if (!RESOURCE_NAMES.some((d) => need[d] > 0 && candidate.job.resources[d] > 0)) continue;
    victims.push(candidate);
    addTo(need, candidate.job.resources, -1);
    if (RESOURCE_NAMES.every((d) => need[d] <= 0))
      return { reason: 'HigherPriority', victims, short };
  }
  return undefined;
}

/** "Preempted by job b-1 of tenant b reclaiming its guaranteed gpu quota in cohort research". */
export function preemptionMessage(
  reason: PreemptionReason,
  by: PendingJob,
  victim: RunningJob,
  short: readonly ResourceName[],
): string {
  const quota = `${short.map(resourceLabel).join(' and ')} quota`;
  switch (reason) {
    case 'ReclaimGuarantee':
      return `Preempted by job ${by.id} of tenant ${by.tenantId} reclaiming its guaranteed ${quota}, which this job had borrowed; requeued without using a retry`;
    case 'HigherPriority':
      return `Preempted by job ${by.id} of tenant ${by.tenantId} with higher priority (${by.priority} > ${victim.priority}) at the tenant's ${quota}; requeued without using a retry`;
  }
}
