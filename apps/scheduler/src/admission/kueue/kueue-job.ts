import { kueuePriorityClass } from '@roam/domain';
import { KUEUE_PRIORITY_CLASS_LABEL, KUEUE_QUEUE_LABEL } from '@roam/kube';

/**
 * ROAM_ADMISSION=kueue: what Kueue reads off a job's Job: the LocalQueue it waits in, and the
 * WorkloadPriorityClass of its priority (the Workload's priority: queue order and preemption
 * within the tenant's ClusterQueue). `priorityClass` is the class the admission cycle chose
 * among those provisioned (admin classes included); without it, the band of its priority.
 */
export const kueueJobLabels = (
  queue: string,
  priority: number | undefined,
  priorityClass?: string,
) => ({
  [KUEUE_QUEUE_LABEL]: queue,
  [KUEUE_PRIORITY_CLASS_LABEL]: priorityClass ?? kueuePriorityClass(priority ?? 0).name,
});
