import type { QuotaShortfall } from './admission.js';
import { RESOURCE_NAMES, type ResourceName, type Resources } from './resources.js';
import type { TenantLimits, TenantState } from './snapshot.js';

/**
 * A cohort as one admission cycle sees it (docs/scheduling.md#borrowing). Its members' quotas
 * are guarantees; together they are the cohort's pool. A member may go beyond its own guarantee
 * (up to its borrowing limit) into what the others leave idle, but never take what another
 * member keeps for its own waiting jobs.
 */
export interface CohortWork {
  name: string;
  /** The members' guarantees (`limits`) summed. */
  guarantee: Resources;
  /** What the members hold: running jobs plus this cycle's admissions. */
  used: Resources;
  /** Idle guarantee the members keep for their own waiting jobs (`CohortMember.kept` summed). */
  kept: Resources;
}

/** A cohort member's part of the cycle's bookkeeping. */
export interface CohortMember {
  cohort: CohortWork;
  /** Requests of its runnable waiting jobs not yet admitted this cycle. */
  demand: Resources;
  /** `min(idle guarantee, demand)` per resource: not lent to the other members. */
  kept: Resources;
}

const zero = (): Resources => ({ cpuMillis: 0, memoryBytes: 0, gpu: 0 });

/** Cohorts by name, from the tenants that name one; usage starts at what they hold. */
export function cohortsOf(tenants: readonly TenantState[]): Map<string, CohortWork> {
  const cohorts = new Map<string, CohortWork>();
  for (const tenant of tenants) {
    if (tenant.cohort === undefined) continue;
    let cohort = cohorts.get(tenant.cohort);
    if (!cohort) {
      cohort = { name: tenant.cohort, guarantee: zero(), used: zero(), kept: zero() };
      cohorts.set(tenant.cohort, cohort);
    }
    for (const r of RESOURCE_NAMES) {
      cohort.guarantee[r] += tenant.limits[r];
      cohort.used[r] += tenant.running.resources[r];
    }
  }
  return cohorts;
}

type Lender = Pick<TenantState, 'limits' | 'borrowingLimit'>;

/** The most a member may ever hold of `r`: its guarantee plus borrowing, within the pool. */
export function ceilingOf(
  tenant: Lender,
  cohort: Pick<CohortWork, 'guarantee'>,
  r: ResourceName,
): number {
  return Math.min(tenant.limits[r] + (tenant.borrowingLimit?.[r] ?? Infinity), cohort.guarantee[r]);
}

/**
 * A member's limits as "never fits" and its namespace's ResourceQuota see them: the ceilings,
 * not the guarantee (Kubernetes must let it run what admission lets it borrow).
 */
export function ceilingLimits(tenant: Lender, cohort: Pick<CohortWork, 'guarantee'>): TenantLimits {
  return {
    cpuMillis: ceilingOf(tenant, cohort, 'cpuMillis'),
    memoryBytes: ceilingOf(tenant, cohort, 'memoryBytes'),
    gpu: ceilingOf(tenant, cohort, 'gpu'),
    maxConcurrentJobs: tenant.limits.maxConcurrentJobs,
  };
}

/** Starts a member's bookkeeping once its waiting jobs' requests (`demand`) are known. */
export function joinCohort(
  tenant: TenantState,
  used: Resources,
  cohort: CohortWork,
  demand: Resources,
): CohortMember {
  const member: CohortMember = { cohort, demand, kept: zero() };
  for (const r of RESOURCE_NAMES) {
    member.kept[r] = Math.min(Math.max(0, tenant.limits[r] - used[r]), demand[r]);
    cohort.kept[r] += member.kept[r];
  }
  return member;
}

/**
 * Why a member may not take `request` now, given what it holds (`used`): beyond its guarantee
 * plus borrowing limit, or beyond what the cohort has left once the other members' kept idle
 * guarantee is set aside. Empty when it may. Only requested resources can block.
 */
export function cohortShortfalls(
  tenant: TenantState,
  member: CohortMember,
  used: Resources,
  request: Resources,
): QuotaShortfall[] {
  const shortfalls: QuotaShortfall[] = [];
  const cohort = member.cohort;
  for (const r of RESOURCE_NAMES) {
    const needed = request[r];
    if (needed <= 0) continue;
    const borrowing = tenant.borrowingLimit?.[r];
    if (borrowing !== undefined && used[r] + needed > tenant.limits[r] + borrowing) {
      shortfalls.push({
        resource: r,
        used: used[r],
        limit: tenant.limits[r] + borrowing,
        needed,
        borrowing,
      });
      continue;
    }
    const held = cohort.used[r] + cohort.kept[r] - member.kept[r];
    if (held + needed > cohort.guarantee[r]) {
      shortfalls.push({
        resource: r,
        used: held,
        limit: cohort.guarantee[r],
        needed,
        cohort: cohort.name,
      });
    }
  }
  return shortfalls;
}

/** True when taking `request` puts the member beyond its guarantee in some resource. */
export function borrows(limits: TenantLimits, used: Resources, request: Resources): boolean {
  return RESOURCE_NAMES.some((r) => request[r] > 0 && used[r] + request[r] > limits[r]);
}

/** Books an admission of `request` (`used` already includes it) into the member and its cohort. */
export function bookCohort(
  tenant: TenantState,
  member: CohortMember,
  used: Resources,
  request: Resources,
): void {
  const cohort = member.cohort;
  for (const r of RESOURCE_NAMES) {
    cohort.used[r] += request[r];
    member.demand[r] = Math.max(0, member.demand[r] - request[r]);
    const kept = Math.min(Math.max(0, tenant.limits[r] - used[r]), member.demand[r]);
    cohort.kept[r] += kept - member.kept[r];
    member.kept[r] = kept;
  }
}
