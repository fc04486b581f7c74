// ROAM_ADMISSION=kueue: Kueue decides admission, roam follows. What a Workload's conditions
// say (QuotaReserved, Admitted, Evicted, Preempted, Finished), and what that means for a job
// roam has not started yet. Pure: the scheduler reads Workloads and applies the result through
// the job ledger (docs/architecture.md#rule-9).
import type { WaitReason } from '../scheduling/admission.js';
import type { JobEvent, JobState } from '../scheduling/job-state.js';

export interface WorkloadCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** One AdmissionCheck's state on a Workload (`status.admissionChecks`). */
export interface WorkloadCheck {
  name: string;
  state: 'Pending' | 'Ready' | 'Retry' | 'Rejected';
  lastTransitionTime?: string;
  message?: string;
  podSetUpdates?: { name: string; annotations?: Record<string, string> }[];
}

/** The parts of a kueue.x-k8s.io Workload roam reads. */
export interface KueueWorkload {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { queueName?: string; podSets?: { name: string }[] };
  status?: {
    admission?: { clusterQueue?: string };
    conditions?: WorkloadCondition[];
    admissionChecks?: WorkloadCheck[];
  };
}

/**
 * Whether the AdmissionCheck `check` waits for its controller's answer on this Workload: Kueue
 * reserved quota for it and the check is Pending. Kueue puts a check Pending when the workload
 * reserves quota, and again after an eviction, so each admission gets its own answer.
 */
export function awaitsCheck(w: KueueWorkload, check: string): boolean {
  return (
    isTrue(w, 'QuotaReserved') &&
    !isTrue(w, 'Finished') &&
    (w.status?.admissionChecks ?? []).some((c) => c.name === check && c.state === 'Pending')
  );
}

/**
 * The Workload's `status.admissionChecks` with `check` answered: its state and message, and
 * (Ready) the annotations every pod set gets. The other checks are left as they are.
 */
export function answerCheck(
  w: KueueWorkload,
  check: string,
  answer: { state: 'Ready' | 'Retry' | 'Rejected'; message: string },
  annotations: Record<string, string> = {},
  now: Date = new Date(),
): WorkloadCheck[] {
  const podSets = w.spec?.podSets?.length ? w.spec.podSets : [{ name: 'main' }];
  return (w.status?.admissionChecks ?? []).map((c) =>
    c.name !== check
      ? c
      : {
          name: c.name,
          state: answer.state,
          message: answer.message,
          lastTransitionTime: now.toISOString(),
          ...(answer.state === 'Ready' && Object.keys(annotations).length > 0
            ? { podSetUpdates: podSets.map((p) => ({ name: p.name, annotations })) }
            : {}),
        },
  );
}

export type WorkloadVerdict =
  | { kind: 'admitted'; clusterQueue: string }
  | { kind: 'pending'; reason: string; message: string }
  | { kind: 'evicted'; reason: string; message: string }
  /** Its Job ended (it ran, so Kueue had admitted it). */
  | { kind: 'finished'; clusterQueue: string }
  /** Kueue has not looked at it yet (no QuotaReserved condition). */
  | { kind: 'unseen' };

const condition = (w: KueueWorkload, type: string) =>
  w.status?.conditions?.find((c) => c.type === type);
const isTrue = (w: KueueWorkload, type: string) => condition(w, type)?.status === 'True';

/** Where Kueue stands on a workload; pending with Kueue's own reason and message. */
export function workloadVerdict(w: KueueWorkload): WorkloadVerdict {
  if (isTrue(w, 'Finished'))
    return { kind: 'finished', clusterQueue: w.status?.admission?.clusterQueue ?? '' };
  if (isTrue(w, 'Admitted'))
    return { kind: 'admitted', clusterQueue: w.status?.admission?.clusterQueue ?? '' };
  // Evicted carries why (Preempted, PodsReadyTimeout, InactiveWorkload…); its message says by whom.
  for (const type of ['Evicted', 'Preempted']) {
    const c = condition(w, type);
    if (c?.status === 'True')
      return { kind: 'evicted', reason: c.reason ?? type, message: c.message ?? type };
  }
  const reserved = condition(w, 'QuotaReserved');
  if (reserved?.status === 'True')
    // Quota reserved, admission checks not yet passed: still waiting, for a different reason.
    return {
      kind: 'pending',
      reason: 'QuotaReserved',
      message: reserved.message ?? 'quota reserved; waiting for admission checks',
    };
  if (!reserved) return { kind: 'unseen' };
  return {
    kind: 'pending',
    reason: reserved.reason ?? 'Pending',
    message: reserved.message ?? 'waiting for quota',
  };
}

/**
 * roam's wait reason for Kueue's pending message: asking for more than the ClusterQueue could
 * ever hold ("request > maximum capacity": a gang larger than the tenant's whole quota) never
 * fits, as roam mode says of such a gang; short of `pods` quota is the tenant's concurrency
 * limit (its ClusterQueue's `pods` quota is `max_concurrent_jobs`); short of anything else is
 * waiting for quota.
 */
export function kueueWaitReason(message: string): WaitReason {
  if (/request > maximum capacity/.test(message)) return 'Unschedulable';
  return /insufficient unused quota for pods\b/.test(message)
    ? 'ConcurrencyLimit'
    : 'WaitingForQuota';
}

/**
 * The ledger event for a job given its Workload, or undefined when nothing changes. An admitted
 * or running job Kueue preempted (`Evicted`, reason `Preempted`) is preempted in roam's ledger
 * (`preempted`: the caller starts a new attempt and removes the old one's Job). A job not
 * yet admitted in roam (or admitted and not yet running): until Kueue has a verdict (no Job,
 * no Workload, or a Workload Kueue has not looked at), the job stays as it is; the first
 * verdict queues it with Kueue's own reason, or admits it. A running job Kueue evicts
 * (preempted, say) goes back to the queue: Kueue suspended its Job, whose pods go, and admits
 * the same Job again later. That is Kueue's decision, not a failure of the run: the attempt
 * stays the same and no retry is counted, as Kubernetes counts no failure for a suspension.
 */
export function kueueEvent(
  state: JobState,
  verdict: WorkloadVerdict | undefined,
  now: Date,
): { event: JobEvent; admittedAt?: Date | null; startedAt?: null; preempted?: true } | undefined {
  const waiting = (message: string, reason: WaitReason = 'WaitingForQuota') =>
    state.phase === 'Queued' && state.reason === reason
      ? undefined
      : { event: { type: 'queue', reason, message } as JobEvent };
  // Kueue preempted it (a cohort member reclaiming its guarantee, or a higher priority in the
  // tenant's queue): a roam preemption, as in roam mode (docs/scheduling.md#kueue-quota).
  if (
    (state.phase === 'Running' || state.phase === 'Admitted') &&
    state.reason !== 'Offloaded' &&
    verdict?.kind === 'evicted' &&
    verdict.reason === 'Preempted'
  )
    return {
      event: { type: 'preempt', message: `Kueue Preempted: ${verdict.message}` },
      admittedAt: null,
      startedAt: null,
      preempted: true,
    };
  if (state.phase === 'Running' && state.reason !== 'Offloaded' && verdict?.kind === 'evicted')
    return {
      event: {
        type: 'queue',
        reason: 'WaitingForQuota',
        message: `Kueue ${verdict.reason}: ${verdict.message}; waiting to be admitted again`,
      },
      admittedAt: null,
      startedAt: null,
    };
  if (state.status !== 'pending' || verdict === undefined) return undefined;
  switch (verdict.kind) {
    case 'admitted':
    // A short job may run and finish between two cycles: it was admitted all the same, and
    // the reconciler records its outcome from the Job.
    case 'finished':
      return state.phase === 'Admitted'
        ? undefined
        : {
            event: {
              type: 'admit',
              message: `admitted by Kueue in ClusterQueue ${verdict.clusterQueue}`,
            },
            admittedAt: now,
          };
    case 'pending':
      // Quota reserved, only the admission checks (roam's own URL minting) to pass: the job is
      // not waiting for quota, and is admitted as soon as they answer; it stays as it is.
      if (verdict.reason === 'QuotaReserved') return undefined;
      return state.phase === 'Admitted'
        ? undefined
        : waiting(`Kueue ${verdict.reason}: ${verdict.message}`, kueueWaitReason(verdict.message));
    case 'evicted':
      // Kueue suspended the Job again; it waits in the queue until readmitted.
      return state.phase === 'Admitted'
        ? {
            event: {
              type: 'queue',
              reason: 'WaitingForQuota',
              message: `Kueue ${verdict.reason}: ${verdict.message}`,
            },
            admittedAt: null,
          }
        : waiting(`Kueue ${verdict.reason}: ${verdict.message}`);
    case 'unseen':
      return undefined;
  }
}
