import { kueuePriorityClass } from '@roam/domain';
import { KUEUE_PRIORITY_CLASS_LABEL, KUEUE_QUEUE_LABEL } from '@roam/kube';

/**
 * ROAM_ADMISSION=kueue: what Kueue reads off a job's Job: the LocalQueue it waits in, and the
 * WorkloadPriorityClass its priority falls in (the Workload's priority: queue order and
 * preemption within the tenant's ClusterQueue).
 */
export const kueueJobLabels = (queue: string, priority: number | undefined) => ({
  [KUEUE_QUEUE_LABEL]: queue,
  [KUEUE_PRIORITY_CLASS_LABEL]: kueuePriorityClass(priority ?? 0).name,
});
