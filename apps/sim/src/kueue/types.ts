// kueue.x-k8s.io/v1beta1: ResourceFlavor, ClusterQueue, LocalQueue, Workload,
// WorkloadPriorityClass and AdmissionCheck, as the
// shapes of Kueue's CRDs (config/components/crd/bases) that roam and kubectl read. Served
// like every other type: one `register` call each.
import type { Condition, PodTemplate, Toleration } from '../api/models.js';
import type { Column, KubeObject, Registry, ResourceType } from '../api/registry.js';
import { formatAge } from '../api/builtin-types.js';
import { isQuantity } from '../api/quantity.js';
import { invalidValue, required, type StatusCause } from '../api/status.js';

export const KUEUE_GROUP = 'kueue.x-k8s.io';
export const KUEUE_VERSION = 'v1beta1';
export const KUEUE_API_VERSION = `${KUEUE_GROUP}/${KUEUE_VERSION}`;
/** The label a Job names its LocalQueue with. */
export const QUEUE_NAME_LABEL = 'kueue.x-k8s.io/queue-name';
/** The label a Job names its WorkloadPriorityClass with (the Workload's priority). */
export const PRIORITY_CLASS_LABEL = 'kueue.x-k8s.io/priority-class';

export const KUEUE_KEYS = {
  flavors: `resourceflavors.${KUEUE_GROUP}`,
  clusterQueues: `clusterqueues.${KUEUE_GROUP}`,
  localQueues: `localqueues.${KUEUE_GROUP}`,
  workloads: `workloads.${KUEUE_GROUP}`,
  priorityClasses: `workloadpriorityclasses.${KUEUE_GROUP}`,
  admissionChecks: `admissionchecks.${KUEUE_GROUP}`,
} as const;

export interface FlavorQuotas {
  name: string;
  resources: { name: string; nominalQuota: string | number; borrowingLimit?: string | number }[];
}

export interface ClusterQueueSpec {
  cohort?: string;
  queueingStrategy?: 'StrictFIFO' | 'BestEffortFIFO';
  namespaceSelector?: { matchLabels?: Record<string, string> };
  resourceGroups?: { coveredResources: string[]; flavors: FlavorQuotas[] }[];
  stopPolicy?: 'None' | 'Hold' | 'HoldAndDrain';
  preemption?: PreemptionPolicy;
  /** AdmissionChecks every workload of the queue must pass before it is Admitted. */
  admissionChecks?: string[];
}

/** Which admitted workloads a pending one may evict to fit (Kueue's ClusterQueue `preemption`). */
export interface PreemptionPolicy {
  withinClusterQueue?: 'Never' | 'LowerPriority' | 'LowerOrNewerEqualPriority';
  reclaimWithinCohort?: 'Never' | 'LowerPriority' | 'Any';
  /** Stored and validated; the simulator never preempts for a borrowing workload (Never). */
  borrowWithinCohort?: { policy?: 'Never' | 'LowerPriority'; maxPriorityThreshold?: number };
}

/** A priority Jobs name with PRIORITY_CLASS_LABEL; `value` is the Workload's priority. */
export type WorkloadPriorityClass = KubeObject & { value?: number; description?: string };

/**
 * A check an external controller (`spec.controllerName`) answers for each workload that
 * reserved quota in a ClusterQueue listing it. The controller marks it `Active`; a ClusterQueue
 * whose checks are missing or inactive admits nothing.
 */
export type AdmissionCheck = KubeObject<
  { controllerName: string; retryDelayMinutes?: number; parameters?: unknown },
  { conditions?: Condition[] }
>;

export type CheckState = 'Pending' | 'Ready' | 'Retry' | 'Rejected';

/** What a check's controller gives the pod set on Ready, applied to the Job at unsuspend. */
export interface PodSetUpdate {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
}

/** One entry of a Workload's `status.admissionChecks` (a list map keyed by name). */
export interface AdmissionCheckState {
  name: string;
  state: CheckState;
  lastTransitionTime: string;
  message: string;
  podSetUpdates?: PodSetUpdate[];
}

export interface FlavorUsage {
  name: string;
  resources: { name: string; total: string; borrowed: string }[];
}

export type ClusterQueue = KubeObject<
  ClusterQueueSpec,
  {
    pendingWorkloads?: number;
    reservingWorkloads?: number;
    admittedWorkloads?: number;
    flavorsReservation?: FlavorUsage[];
    flavorsUsage?: FlavorUsage[];
    conditions?: Condition[];
  }
>;

export type LocalQueue = KubeObject<
  { clusterQueue: string },
  {
    pendingWorkloads?: number;
    reservingWorkloads?: number;
    admittedWorkloads?: number;
    conditions?: Condition[];
  }
>;

export type ResourceFlavor = KubeObject<{ nodeLabels?: Record<string, string> }>;

export interface PodSetAssignment {
  name: string;
  flavors: Record<string, string>;
  resourceUsage: Record<string, string>;
  count: number;
}

export type Workload = KubeObject<
  {
    queueName?: string;
    priority?: number;
    active?: boolean;
    podSets: { name: string; count: number; template: PodTemplate }[];
  },
  {
    admission?: { clusterQueue: string; podSetAssignments: PodSetAssignment[] };
    conditions?: Condition[];
    admissionChecks?: AdmissionCheckState[];
  }
>;

export const conditionTrue = (obj: KubeObject, type: string): boolean =>
  ((obj.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === type && c.status === 'True',
  );

const col = <T extends KubeObject>(
  name: string,
  cell: (o: T, now: number) => string | number,
  type: Column['type'] = 'string',
): Column => ({ name, type, cell: (o, now) => cell(o as T, now) });

const age = col('Age', (o, now) => formatAge(o.metadata.creationTimestamp, now));

function spec(obj: KubeObject): Record<string, unknown> | undefined {
  return obj.spec && typeof obj.spec === 'object' && !Array.isArray(obj.spec)
    ? (obj.spec as Record<string, unknown>)
    : undefined;
}

function validateClusterQueue(obj: KubeObject): StatusCause[] {
  const s = spec(obj);
  if (!s) return [required('spec')];
  const out: StatusCause[] = [];
  const strategy = s.queueingStrategy;
  if (strategy !== undefined && strategy !== 'StrictFIFO' && strategy !== 'BestEffortFIFO')
    out.push(
      invalidValue(
        'spec.queueingStrategy',
        strategy,
        'supported values: StrictFIFO, BestEffortFIFO',
      ),
    );
  const groups = s.resourceGroups ?? [];
  if (!Array.isArray(groups))
    return [...out, invalidValue('spec.resourceGroups', groups, 'must be a list')];
  groups.forEach((g: unknown, i: number) => {
    const group = g as Partial<NonNullable<ClusterQueueSpec['resourceGroups']>[number]> | null;
    if (!Array.isArray(group?.coveredResources) || group.coveredResources.length === 0)
      out.push(required(`spec.resourceGroups[${i}].coveredResources`));
    if (!Array.isArray(group?.flavors) || group.flavors.length === 0) {
      out.push(required(`spec.resourceGroups[${i}].flavors`));
      return;
    }
    group.flavors.forEach((f, j) => {
      if (!f?.name) out.push(required(`spec.resourceGroups[${i}].flavors[${j}].name`));
      (f?.resources ?? []).forEach((r, k) => {
        const at = `spec.resourceGroups[${i}].flavors[${j}].resources[${k}]`;
        if (!isQuantity(r?.nominalQuota))
          out.push(invalidValue(`${at}.nominalQuota`, r?.nominalQuota, 'must be a quantity'));
        if (r?.borrowingLimit !== undefined && !isQuantity(r.borrowingLimit))
          out.push(invalidValue(`${at}.borrowingLimit`, r.borrowingLimit, 'must be a quantity'));
      });
    });
  });
  const preemption = s.preemption as Record<string, unknown> | undefined;
  const allowed = {
    withinClusterQueue: ['Never', 'LowerPriority', 'LowerOrNewerEqualPriority'],
    reclaimWithinCohort: ['Never', 'LowerPriority', 'Any'],
  };
  const borrow = preemption?.borrowWithinCohort as Record<string, unknown> | undefined;
  if (borrow?.policy !== undefined && !['Never', 'LowerPriority'].includes(borrow.policy as string))
    out.push(
      invalidValue(
        'spec.preemption.borrowWithinCohort.policy',
        borrow.policy,
        'supported values: Never, LowerPriority',
      ),
    );
  for (const [field, values] of Object.entries(allowed)) {
    const value = preemption?.[field];
    if (value !== undefined && !values.includes(value as string))
      out.push(
        invalidValue(`spec.preemption.${field}`, value, `supported values: ${values.join(', ')}`),
      );
  }
  return out;
}

const kueueType = (
  t: Omit<ResourceType, 'group' | 'version' | 'categories' | 'subresources'>,
): ResourceType => ({
  group: KUEUE_GROUP,
  version: KUEUE_VERSION,
  categories: ['kueue'],
  subresources: ['status'],
  ...t,
});

export const kueueTypes: ResourceType[] = [
  kueueType({
    kind: 'ResourceFlavor',
    plural: 'resourceflavors',
    singular: 'resourceflavor',
    namespaced: false,
    shortNames: ['flavor', 'flavors', 'rf'],
    columns: [age],
  }),
  kueueType({
    kind: 'ClusterQueue',
    plural: 'clusterqueues',
    singular: 'clusterqueue',
    namespaced: false,
    shortNames: ['cq'],
    columns: [
      col<ClusterQueue>('Cohort', (o) => o.spec?.cohort ?? ''),
      col<ClusterQueue>('Strategy', (o) => o.spec?.queueingStrategy ?? 'BestEffortFIFO'),
      col<ClusterQueue>('Pending Workloads', (o) => o.status?.pendingWorkloads ?? 0, 'integer'),
      col<ClusterQueue>('Admitted Workloads', (o) => o.status?.admittedWorkloads ?? 0, 'integer'),
      age,
    ],
    validate: validateClusterQueue,
    defaults: (obj) => {
      const s = obj.spec as ClusterQueueSpec | undefined;
      if (s) s.queueingStrategy ??= 'BestEffortFIFO';
    },
  }),
  kueueType({
    kind: 'LocalQueue',
    plural: 'localqueues',
    singular: 'localqueue',
    namespaced: true,
    shortNames: ['queue', 'queues', 'lq'],
    columns: [
      col<LocalQueue>('ClusterQueue', (o) => o.spec?.clusterQueue ?? ''),
      col<LocalQueue>('Pending Workloads', (o) => o.status?.pendingWorkloads ?? 0, 'integer'),
      col<LocalQueue>('Admitted Workloads', (o) => o.status?.admittedWorkloads ?? 0, 'integer'),
      age,
    ],
    validate: (obj) => {
      const cq = spec(obj)?.clusterQueue;
      return typeof cq === 'string' && cq ? [] : [required('spec.clusterQueue')];
    },
  }),
  kueueType({
    kind: 'WorkloadPriorityClass',
    plural: 'workloadpriorityclasses',
    singular: 'workloadpriorityclass',
    namespaced: false,
    shortNames: ['wpc'],
    columns: [col<WorkloadPriorityClass>('Value', (o) => o.value ?? 0, 'integer'), age],
    validate: (obj) =>
      Number.isInteger(obj.value) ? [] : [invalidValue('value', obj.value, 'must be an integer')],
  }),
  kueueType({
    kind: 'AdmissionCheck',
    plural: 'admissionchecks',
    singular: 'admissioncheck',
    namespaced: false,
    shortNames: [],
    columns: [
      col<AdmissionCheck>('Controller', (o) => o.spec?.controllerName ?? ''),
      col<AdmissionCheck>('Active', (o) => (conditionTrue(o, 'Active') ? 'True' : 'False')),
      age,
    ],
    validate: (obj) => {
      const name = spec(obj)?.controllerName;
      return typeof name === 'string' && name ? [] : [required('spec.controllerName')];
    },
  }),
  kueueType({
    kind: 'Workload',
    plural: 'workloads',
    singular: 'workload',
    namespaced: true,
    shortNames: ['wl'],
    columns: [
      col<Workload>('Queue', (o) => o.spec?.queueName ?? ''),
      col<Workload>('Reserved in', (o) => o.status?.admission?.clusterQueue ?? ''),
      col<Workload>('Admitted', (o) => (conditionTrue(o, 'Admitted') ? 'True' : '')),
      col<Workload>('Finished', (o) => (conditionTrue(o, 'Finished') ? 'True' : '')),
      age,
    ],
    validate: (obj) => {
      const podSets = spec(obj)?.podSets;
      if (!Array.isArray(podSets) || podSets.length === 0) return [required('spec.podSets')];
      return podSets.flatMap((p: unknown, i: number) => {
        const set = p as Partial<NonNullable<Workload['spec']>['podSets'][number]> | null;
        const out: StatusCause[] = [];
        if (!set?.name) out.push(required(`spec.podSets[${i}].name`));
        if (!set?.template?.spec) out.push(required(`spec.podSets[${i}].template.spec`));
        return out;
      });
    },
  }),
];

export function registerKueue(registry: Registry): void {
  for (const type of kueueTypes) registry.register(type);
}
