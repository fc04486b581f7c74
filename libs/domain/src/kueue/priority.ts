// ROAM_ADMISSION=kueue: roam's job priority as a Kueue WorkloadPriorityClass. Kueue orders a
// ClusterQueue's workloads and picks preemption victims by the priority of the class a Job
// names (label `kueue.x-k8s.io/priority-class`). roam provisions one class per band of its own
// low, normal and high, and one per priority class an admin defined (`roam-pc-<name>`, at most
// MAX_PRIORITY_CLASSES), removing those of classes since deleted.

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

/** The WorkloadPriorityClass names of admin-defined classes start with this. */
export const KUEUE_ADMIN_CLASS_PREFIX = 'roam-pc-';

/**
 * The bands and one class per admin-defined priority class (`{ name: value }`), lowest first;
 * a band and an admin class of the same value: the band first.
 */
export function kueuePriorityClasses(
  defined: Readonly<Record<string, number>>,
): KueuePriorityClass[] {
  const admin = Object.entries(defined).map(([name, value]) => ({
    name: `${KUEUE_ADMIN_CLASS_PREFIX}${name}`,
    value,
    description: `roam priority class ${name}`,
  }));
  return [...KUEUE_PRIORITY_CLASSES, ...admin].sort(
    (a, b) =>
      a.value - b.value ||
      Number(a.name.startsWith(KUEUE_ADMIN_CLASS_PREFIX)) -
        Number(b.name.startsWith(KUEUE_ADMIN_CLASS_PREFIX)) ||
      a.name.localeCompare(b.name),
  );
}

/**
 * The class for a job's priority: the admin class its spec named (`priority_class`) while it
 * still exists with the job's value; otherwise the highest class whose value is at or below the
 * priority, so a job never outranks its number; below every class, the lowest.
 */
export function kueuePriorityClass(
  priority: number,
  classes: readonly KueuePriorityClass[] = KUEUE_PRIORITY_CLASSES,
  named?: string,
): KueuePriorityClass {
  if (named !== undefined) {
    const own = classes.find((c) => c.name === `${KUEUE_ADMIN_CLASS_PREFIX}${named}`);
    if (own?.value === priority) return own;
  }
  let chosen = classes[0] ?? KUEUE_PRIORITY_CLASSES[0]!;
  for (const c of classes) if (c.value <= priority && c.value > chosen.value) chosen = c;
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
