/**
 * How roam marks what it creates in Kubernetes: every service that
 * creates, watches or reads roam's objects names them through here, so they cannot drift.
 */
export const ROAM_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  jobId: 'roam.dev/job-id',
  tenant: 'roam.dev/tenant',
  attempt: 'roam.dev/attempt',
} as const;

/**
 * On a node a failover action cordoned: the action's id, so admission can say which action took
 * the capacity a waiting job needs (docs/scheduling.md#capacity-loss). Removed on uncordon.
 */
export const CORDONED_BY_ANNOTATION = 'roam.dev/cordoned-by';

/** The label Kueue reads a Job's LocalQueue from (ROAM_ADMISSION=kueue). */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

/** The label Kueue reads a Job's WorkloadPriorityClass from (ROAM_ADMISSION=kueue). */
export const KUEUE_PRIORITY_CLASS_LABEL = 'kueue.x-k8s.io/priority-class';

/** Label selector for everything roam manages. */
export const MANAGED_BY_ROAM = `${ROAM_LABELS.managedBy}=roam`;

/**
 * Field selector for pods that still hold their node (neither Succeeded nor Failed): what
 * capacity counts, as kube-scheduler counts it. A watch with it sees a pod that finishes as
 * DELETED and none of its later changes.
 */
export const UNFINISHED_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

/** Label selector for what roam does not manage (a kubectl-applied Job, …). */
export const NOT_MANAGED_BY_ROAM = `${ROAM_LABELS.managedBy}!=roam`;

/**
 * On the Job of a roam job the offload worker runs on RunPod: the offload worker watches only
 * these among roam's Jobs (the rest, the bulk of them, are none of its business).
 */
export const OFFLOADED_LABEL = 'roam.dev/offloaded';

/** Label selector for roam's offloaded Jobs. */
export const OFFLOADED_BY_ROAM = `${MANAGED_BY_ROAM},${OFFLOADED_LABEL}=true`;

/** Labels on a tenant's objects (namespace, quota, limit range). */
export const tenantLabels = (tenantId: string): Record<string, string> => ({
  [ROAM_LABELS.managedBy]: 'roam',
  [ROAM_LABELS.tenant]: tenantId,
});

/** Labels on a job attempt's Job and Pods. */
export const jobLabels = (
  jobId: string,
  tenantId: string,
  attempt: number,
): Record<string, string> => ({
  ...tenantLabels(tenantId),
  [ROAM_LABELS.jobId]: jobId,
  [ROAM_LABELS.attempt]: String(attempt),
});

/** One Kubernetes Job per attempt, named from the job id so a second create is an adoption. */
export const kubeJobName = (jobId: string, attempt: number): string => `roam-${jobId}-${attempt}`;

/** The JobSet API roam creates (jobset.x-k8s.io). */
export const JOBSET_API_VERSION = 'jobset.x-k8s.io/v1alpha2';

/**
 * One JobSet per attempt of a job with replicated jobs, named from the job id (without its
 * dashes, so `<jobset>-<replicated job>-<index>` child Job names fit in 63 characters).
 */
export const kubeJobSetName = (jobId: string, attempt: number): string =>
  `r${jobId.replaceAll('-', '')}-${attempt}`;

/**
 * The object an attempt runs as: its JobSet when the job has replicated jobs (`jobSet`), else
 * its Job.
 */
export const attemptObjectRef = (
  jobSet: boolean,
  jobId: string,
  attempt: number,
): { apiVersion: string; kind: 'Job' | 'JobSet'; name: string } =>
  jobSet
    ? { apiVersion: JOBSET_API_VERSION, kind: 'JobSet', name: kubeJobSetName(jobId, attempt) }
    : { apiVersion: 'batch/v1', kind: 'Job', name: kubeJobName(jobId, attempt) };

/**
 * The job and attempt an attempt's object name (`kubeJobName` or `kubeJobSetName`) stands for;
 * undefined for any other name.
 */
export function attemptOfObjectName(name: string): { jobId: string; attempt: number } | undefined {
  const job =
    /^roam-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([1-9]\d*)$/.exec(name);
  if (job) return { jobId: job[1]!, attempt: Number(job[2]) };
  const set =
    /^r([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})-([1-9]\d*)$/.exec(name);
  if (!set) return undefined;
  return { jobId: set.slice(1, 6).join('-'), attempt: Number(set[6]) };
}

/** The attempt an object's labels name, when they name a valid one. */
export const attemptOf = (labels: Record<string, string> | undefined): number | undefined => {
  const attempt = Number(labels?.[ROAM_LABELS.attempt]);
  return Number.isInteger(attempt) && attempt >= 1 ? attempt : undefined;
};

/** Pod labels of an indexed Job's completion index and of a JobSet's child Job. */
export const REPLICA_POD_LABELS = {
  completionIndex: 'batch.kubernetes.io/job-completion-index',
  replicatedJob: 'jobset.sigs.k8s.io/replicatedjob-name',
  jobIndex: 'jobset.sigs.k8s.io/job-index',
  restartAttempt: 'jobset.sigs.k8s.io/restart-attempt',
} as const;

/**
 * The replica a multi-pod job's pod belongs to, as `?replica=` names it: `<replicated
 * job>-<index>` for a JobSet's pod (`worker-1`), its completion index for an indexed Job's
 * (`3`); undefined for a pod with neither.
 */
export const replicaOfPod = (labels: Record<string, string> | undefined): string | undefined => {
  const replicatedJob = labels?.[REPLICA_POD_LABELS.replicatedJob];
  const jobIndex = labels?.[REPLICA_POD_LABELS.jobIndex];
  if (replicatedJob && jobIndex !== undefined) return `${replicatedJob}-${jobIndex}`;
  return labels?.[REPLICA_POD_LABELS.completionIndex];
};
