import type { TenantLimits } from '../tenancy.js';
import type { Resources } from './resources.js';

// Tenant limits are the tenancy module's (the same numbers become the namespace's
// ResourceQuota), so admission and provisioning cannot disagree about their shape.
export type { TenantLimits };

/**
 * The immutable picture one admission cycle decides on (Kueue's "snapshot"): the scheduler
 * reads it from Postgres and the Kubernetes informers, calls `decide`, then writes. Nothing in
 * this folder mutates a snapshot or reads a clock; `now` is part of the snapshot.
 */
export interface Snapshot {
  tenants: readonly TenantState[];
  /** Jobs waiting for admission (status `pending`, not yet admitted), in any order. */
  pending: readonly PendingJob[];
  /** Every node the cluster reports, including cordoned and NotReady ones. */
  nodes: readonly NodeState[];
  now: Date;
  /**
   * Pods still bound to a node whose job no longer holds it (a preempted, cancelled or
   * requeued attempt's pods on their way out, within their grace period). Only `preempt` reads
   * it: their room is as good as free for a job waiting for capacity, so no further job is
   * evicted for it while they go.
   */
  releasing?: readonly RunningPod[];
}

export interface TenantState {
  id: string;
  /** Quota (requests) and concurrency limit: `maxConcurrentJobs` counts admitted + running. */
  limits: TenantLimits;
  /** Fair-share weight; a tenant with weight 2 is entitled to twice the share of weight 1. */
  weight: number;
  /**
   * What the tenant holds now: jobs admitted or running on the cluster, with the sum of their
   * requests. Offloaded jobs run elsewhere and belong here only if the adapter wants them to
   * count against the tenant's quota.
   */
  running: {
    count: number;
    resources: Resources;
    /** GPUs held per accelerator type (jobs that named one); counted against `gpuQuotaByType`. */
    gpuByType?: Readonly<Record<string, number>>;
    /** TPU chips held per TPU type (`resources.tpu` is all types); against `tpuQuotaByType`. */
    tpuByType?: Readonly<Record<string, number>>;
    /**
     * The lowest priority among the jobs held (absent: none). A job outside a cohort whose
     * priority is not above it has nothing to preempt, so its wait reads no running jobs.
     */
    minPriority?: number;
  };
  /**
   * GPUs the tenant may hold per accelerator type (`nvidia-l4: 16`), within `limits.gpu`, which
   * caps all types together. A type without an entry is capped by `limits.gpu` alone.
   */
  gpuQuotaByType?: Readonly<Record<string, number>>;
  /**
   * TPU chips the tenant may hold, all TPU types together (`max_tpu`). Absent: no TPU quota, any
   * number of chips (CPU and memory of its TPU jobs still count against `limits`).
   */
  tpuQuota?: number;
  /**
   * TPU chips the tenant may hold per TPU type (`tpu-v5-lite-podslice: 16`), within `tpuQuota`,
   * which caps all types together. A type without an entry is capped by `tpuQuota` alone.
   */
  tpuQuotaByType?: Readonly<Record<string, number>>;
  /**
   * The cohort the tenant lends to and borrows from (docs/scheduling.md#borrowing). Absent: its
   * `limits` are a hard cap, as they were before cohorts. Present: `limits` are its *guarantee*,
   * the idle part of which other members may borrow, and which it may reclaim by preemption.
   */
  cohort?: string;
  /**
   * How far beyond its guarantee a cohort member may go, per resource; a resource without an
   * entry may borrow whatever the cohort has idle. Ignored without `cohort`.
   */
  borrowingLimit?: Readonly<Partial<Resources>>;
  /**
   * The jobs `running` counts, one by one: what preemption may choose from. Absent: the adapter
   * did not read them, and none of this tenant's jobs is preempted.
   */
  runningJobs?: readonly RunningJob[];
}

/** An admitted or running job, as preemption sees it. */
export interface RunningJob {
  id: string;
  priority: number;
  /** When it was admitted: among equals, the newest is preempted first (it loses least). */
  admittedAt: Date;
  resources: Resources;
  /** The accelerator type of its GPUs, if it named one: what it holds of `gpuQuotaByType`. */
  gpuType?: string;
  /**
   * Its pods bound to a node now (the cluster's view), each with its requests: where evicting it
   * makes room. Absent or empty (admitted, not yet bound): it is never chosen to make room on a
   * node, only to free quota.
   */
  pods?: readonly RunningPod[];
}

/** One bound pod of a running job: its node and what it requests there. */
export interface RunningPod {
  node: string;
  resources: Resources;
}

/**
 * Where a job may run by the kind of capacity: only on spot (preemptible) nodes, only on
 * on-demand nodes, on either (the default), or `prefer-spot`: on a spot node when one has room,
 * else on an on-demand node (admission says which, `Admission.capacity`).
 */
export type CapacityType = 'spot' | 'on-demand' | 'any' | 'prefer-spot';

/** The capacity a `prefer-spot` job was admitted to: the one its pods are bound to. */
export type AdmittedCapacity = 'spot' | 'on-demand';

export type OffloadPreference = 'never' | 'allowed' | 'required';

export interface PendingJob {
  id: string;
  tenantId: string;
  /** Higher runs first within the tenant's queue. */
  priority: number;
  /** When the job started waiting (submit time, or the time a retry was due). */
  createdAt: Date;
  resources: Resources;
  /** The Kueue LocalQueue name; carried through, not used for ordering. */
  queue: string;
  offloadPreference: OffloadPreference;
  /** Labels a node must carry (Kubernetes `nodeSelector`). */
  nodeSelector?: Readonly<Record<string, string>>;
  /** Taints the job's pod tolerates, beyond the GPU taint a GPU job tolerates implicitly. */
  tolerations?: readonly Toleration[];
  /**
   * The accelerator its GPUs must be (`nvidia-h100-80gb`): only nodes whose
   * `cloud.google.com/gke-accelerator` label says so, and counted in that type's quota.
   */
  gpuType?: string;
  /**
   * Spot, on-demand, any or spot-else-on-demand capacity (`cloud.google.com/gke-spot`); absent
   * means `any`.
   */
  capacity?: CapacityType;
  /**
   * The TPU slice the job runs on: only nodes labelled with its accelerator type and topology
   * (`cloud.google.com/gke-tpu-accelerator`, `cloud.google.com/gke-tpu-topology`).
   */
  tpu?: TpuSlice;
  /**
   * The job's pods when it has more than one (an indexed Job's parallelism, a JobSet's
   * replicated jobs). Absent: one pod asking for `resources`. A job with pod sets is a gang:
   * admitted only when every pod of every set is placed, and its quota is the sum of them all.
   */
  podSets?: readonly PodSet[];
}

/** A TPU slice by GKE's names: `{ type: "tpu-v5-lite-podslice", topology: "2x4" }`. */
export interface TpuSlice {
  type: string;
  topology: string;
}

/** A group of identical pods of one job: an indexed Job's pods, or a JobSet replicated job's. */
export interface PodSet {
  /** `main` for a Job; the replicated job's name in a JobSet (`driver`, `workers`). */
  name: string;
  /** How many of these pods must run at once (parallelism × replicas). */
  count: number;
  /** The requests of one pod. */
  resources: Resources;
  /**
   * TPU slices (docs/scheduling.md#flavors): the set is `slices` multi-host slices of
   * `count / slices` pods each, one pod per host. All hosts of one slice go on nodes of one node
   * pool (`NodeState.pool`), and every slice of the job on a pool of its own. Absent: its pods go
   * wherever they fit.
   */
  slices?: number;
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: TaintEffect;
}

export interface NodeState {
  name: string;
  /** Node pool (failover unit), for messages. */
  pool?: string;
  allocatable: Resources;
  /** Sum of the requests of every pod bound to the node, roam's or not. */
  requested: Resources;
  /**
   * Pod slots: the node's `allocatable.pods`, and how many pods hold one (bound and unfinished,
   * roam's or not, plus admitted jobs assumed on it). Absent when the node reports no limit.
   */
  pods?: { allocatable: number; used: number };
  /** False when cordoned (`spec.unschedulable`). */
  schedulable: boolean;
  /** The node's Ready condition. */
  ready: boolean;
  labels: Readonly<Record<string, string>>;
  taints: readonly Taint[];
}
