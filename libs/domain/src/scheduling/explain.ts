import {
  type AdmissionDecision,
  type Blocker,
  decide,
  type DecideOptions,
  DEFAULT_STARVATION_THRESHOLD_MS,
  describeBlocker,
  type WaitReason,
} from './admission.js';
import { formatCpu } from '../quantity.js';
import {
  formatAmount,
  formatResources,
  formatMemoryForHumans,
  RESOURCE_NAMES,
  resourceLabel,
  subtract,
  type QuotaResource,
} from './resources.js';
import type { PendingJob, Snapshot } from './snapshot.js';

/**
 * A node reservation as the job's tenant may see it: which job holds it only when that job is
 * the tenant's own. Another tenant's starving job shows as "a job of another tenant".
 */
export interface VisibleReservation {
  node: string;
  jobId?: string;
  tenantId?: string;
}

/** A `Blocker` with nothing of other tenants in it. */
export type VisibleBlocker =
  | Exclude<Blocker, { kind: 'capacity' }>
  | (Omit<Extract<Blocker, { kind: 'capacity' }>, 'reservation'> & {
      reservation?: VisibleReservation;
    });

/**
 * The answer to "why is my job still pending?", for the job's own tenant: other tenants'
 * jobs appear only as counts, never by id or name.
 */
export interface Explanation {
  jobId: string;
  tenantId: string;
  /** True when the next cycle on this snapshot admits it. */
  admitted: boolean;
  /** Where first-fit would put it, when admitted. */
  node?: string;
  reason?: WaitReason;
  blocker?: VisibleBlocker;
  /** Absent for admitted jobs and for jobs that can never run on this cluster. */
  position?: {
    tenant: number;
    /** Waiting jobs of the tenant that can eventually run here. */
    tenantWaiting: number;
    global: number;
    globalWaiting: number;
    /** Jobs of other tenants that fair share hands the next slots to before this one. */
    otherTenantsAhead: number;
  };
  /** One sentence: the decision's message. */
  summary: string;
  /** Each of these, on its own, would let the job move (e.g. "raise memory quota to ≥ 6Gi"). */
  unblock: string[];
}

/**
 * Explains one pending job against a snapshot, by running the same `decide` the scheduler
 * runs, so the answer can never disagree with what the scheduler does. Undefined when the job
 * is not pending in the snapshot (the caller answers 404 or shows the job's own status).
 */
export function explain(
  snapshot: Snapshot,
  jobId: string,
  options: DecideOptions = {},
): Explanation | undefined {
  if (!snapshot.pending.some((j) => j.id === jobId)) return undefined;
  return explainDecision(snapshot, decide(snapshot, options), jobId, options);
}

/**
 * `explain` over a decision already taken on `snapshot`, so one decision can answer many
 * questions (the gateway shares one among every caller for a short while).
 */
export function explainDecision(
  snapshot: Snapshot,
  decision: AdmissionDecision,
  jobId: string,
  options: DecideOptions = {},
): Explanation | undefined {
  const job = snapshot.pending.find((j) => j.id === jobId);
  if (!job) return undefined;
  const admission = decision.admitted.find((a) => a.jobId === jobId);
  if (admission) {
    return {
      jobId,
      tenantId: job.tenantId,
      admitted: true,
      node: admission.node,
      summary: admission.placements
        ? `Admitted in the next cycle (its pods fit on ${[...new Set(admission.placements.map((p) => p.node))].join(', ')})`
        : `Admitted in the next cycle (fits on ${admission.node})`,
      unblock: [],
    };
  }
  const waiting = decision.waiting.find((w) => w.jobId === jobId);
  if (!waiting) return undefined;
  const runnable = decision.waiting.filter((w) => w.position);
  const blocker = visibleBlocker(job, waiting.blocker);
  const threshold = options.starvationThresholdMs ?? DEFAULT_STARVATION_THRESHOLD_MS;
  const explanation: Explanation = {
    jobId,
    tenantId: job.tenantId,
    admitted: false,
    reason: waiting.reason,
    blocker,
    summary:
      blocker === waiting.blocker ? waiting.message : describeVisible(job, blocker, threshold),
    unblock: unblockers(job, blocker),
  };
  if (waiting.position) {
    const global = waiting.position.global;
    const ownAhead = runnable.filter(
      (w) => w.tenantId === job.tenantId && w.position!.global < global,
    ).length;
    const otherTenantsAhead = global - 1 - ownAhead;
    explanation.position = {
      tenant: waiting.position.tenant,
      tenantWaiting: runnable.filter((w) => w.tenantId === job.tenantId).length,
      global,
      globalWaiting: runnable.length,
      otherTenantsAhead,
    };
    if (otherTenantsAhead > 0)
      explanation.summary += `; ${plural(otherTenantsAhead, 'job')} of other tenants ahead by fair share`;
  }
  return explanation;
}

/** The blocker without another tenant's ids (the same object when it has none). */
function visibleBlocker(job: PendingJob, blocker: Blocker): VisibleBlocker {
  if (blocker.kind !== 'capacity' || !blocker.reservation) return blocker;
  if (blocker.reservation.tenantId === job.tenantId) return blocker;
  return { ...blocker, reservation: { node: blocker.reservation.node } };
}

/** The waiting message of a blocker held by another tenant's reservation, without its ids. */
function describeVisible(job: PendingJob, blocker: VisibleBlocker, thresholdMs: number): string {
  if (blocker.kind !== 'capacity' || !blocker.reservation)
    return describeBlocker(job, blocker as Blocker, thresholdMs);
  const message = describeBlocker(job, { ...blocker, reservation: undefined }, thresholdMs);
  return `${message}; node ${blocker.reservation.node} has room but is reserved for a starving job of another tenant`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A threshold, rounded up so "≥ X" is always enough. */
function atLeast(r: QuotaResource, value: number): string {
  if (r === 'cpuMillis') return `${formatCpu(value)}`;
  if (r === 'memoryBytes') return formatMemoryForHumans(value);
  return `${value}`;
}

function unblockers(job: PendingJob, blocker: VisibleBlocker): string[] {
  const tenant = job.tenantId;
  switch (blocker.kind) {
    case 'concurrency': {
      const finishing = blocker.active - blocker.limit + 1;
      return [
        `${plural(finishing, 'running job')} of tenant ${tenant} finishing`,
        `raise tenant ${tenant}'s concurrency limit to ≥ ${blocker.active + 1}`,
      ];
    }
    case 'quota':
      // used + needed ≤ limit + used always holds here (a job larger than the whole quota is
      // Unschedulable), so the running jobs can always free enough.
      return blocker.shortfalls.flatMap((s) =>
        s.cohort !== undefined
          ? [
              `jobs of cohort ${s.cohort} releasing ≥ ${formatAmount(s.resource, s.used + s.needed - s.limit)}`,
              `the cohort's borrowed jobs being preempted, if tenant ${tenant} is within its guarantee`,
            ]
          : [
              `running jobs of tenant ${tenant} releasing ≥ ${formatAmount(s.resource, s.used + s.needed - s.limit)}`,
              `raise ${s.gpuType !== undefined ? `${s.gpuType} ` : ''}${resourceLabel(s.resource)} quota to ≥ ${atLeast(s.resource, s.used + s.needed)}`,
            ],
      );
    case 'capacity': {
      const hints: string[] = [];
      const reservation = blocker.reservation;
      if (reservation && reservation.jobId !== job.id) {
        hints.push(
          reservation.jobId === undefined
            ? `the starving job of another tenant reserving node ${reservation.node} being admitted`
            : `starving job ${reservation.jobId} being admitted`,
        );
      }
      if (blocker.gang) {
        for (const set of blocker.gang.sets) {
          if (set.room < set.count)
            hints.push(`room for ${plural(set.count - set.room, `more ${set.name} pod`)}`);
        }
        for (const node of blocker.unavailable) {
          hints.push(`node ${node} becoming ready and schedulable`);
        }
        return hints;
      }
      if (blocker.best) {
        const missing = subtract(blocker.needed, blocker.best.free);
        const parts = RESOURCE_NAMES.filter((r) => missing[r] > 0).map((r) =>
          formatAmount(r, missing[r]),
        );
        if (blocker.best.pods) parts.push('1 pod slot');
        hints.push(`jobs on node ${blocker.best.node} releasing ≥ ${parts.join(', ')}`);
      }
      for (const node of blocker.unavailable) {
        hints.push(`node ${node} becoming ready and schedulable`);
      }
      hints.push(`a node with ≥ ${formatResources(blocker.needed)} free`);
      return hints;
    }
    case 'unschedulable':
      return blocker.reasons.map((r) => {
        switch (r.kind) {
          case 'quota':
            return `raise ${resourceLabel(r.resource)} quota to ≥ ${atLeast(r.resource, r.requested)}`;
          case 'concurrency':
            return `raise tenant ${tenant}'s concurrency limit to ≥ 1`;
          case 'node':
            return `a node with ≥ ${formatAmount(r.resource, r.requested)}`;
          case 'noSingleNode':
            return `a node with ≥ ${formatResources(r.requested)} allocatable`;
          case 'noMatchingNode':
            return "a node matching the job's node selector and tolerations";
        }
      });
    case 'olderJob':
      return [`job ${blocker.jobId} of tenant ${tenant} being admitted`];
    case 'offload':
      return ['the offload worker placing it (offloadPreference is "required")'];
    case 'unknownTenant':
      return [`tenant ${tenant} being created`];
  }
}
