// ROAM_ADMISSION=kueue: roam's numeric job `priority` as a Kueue WorkloadPriorityClass. Kueue
// orders a ClusterQueue's workloads and picks preemption victims by the priority of the class
// a Job names (label `kueue.x-k8s.io/priority-class`); roam provisions one class per band.

export interface KueuePriorityClass {
  name: string;
  value: number;
  description: string;
}

/** The classes roam provisions, lowest first: the bands of roam's own low, normal and high. */
export const KUEUE_PRIORITY_CLASSES: readonly KueuePriorityClass[] = [
  { name: 'roam-low', value: -100, description: 'roam jobs with priority below 0' },
  { name: 'roam-normal', value: 0, description: 'roam jobs with priority 0 to 99' },
  { name: 'roam-high', value: 100, description: 'roam jobs with priority 100 and above' },
];

/**
 * The class for a job's priority: the highest class whose value is at or below it, so a job
 * never outranks its number; below every class, the lowest.
 */
export function kueuePriorityClass(priority: number): KueuePriorityClass {
  let chosen = KUEUE_PRIORITY_CLASSES[0]!;
  for (const c of KUEUE_PRIORITY_CLASSES) if (c.value <= priority) chosen = c;
  return chosen;
}

/** The WorkloadPriorityClass object of one class (cluster-scoped). */
export function workloadPriorityClass(c: KueuePriorityClass, labels: Record<string, string>) {
  return {
    apiVersion: 'kueue.x-k8s.io/v1beta1',
    kind: 'WorkloadPriorityClass',
    metadata: { name: c.name, labels },
    value: c.value,
    description: c.description,
  };
}
