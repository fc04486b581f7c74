// ROAM_ADMISSION=kueue: a tenant as Kueue objects. Its limits become the nominal quota of its
// own ClusterQueue, in a cohort all tenants share; the LocalQueue in its namespace points at
// it (or at an operator's ClusterQueue). Limits stay caps, as in roam mode: borrowingLimit 0,
// so a tenant never takes more than its limits (its namespace ResourceQuota would refuse the
// pods of a Job Kueue admitted past them).
import { formatCpu, formatMemory, memoryBytes } from '../quantity.js';
import type { EphemeralStoragePolicy, TenantLimits } from '../tenancy.js';

export const KUEUE_API_VERSION = 'kueue.x-k8s.io/v1beta1';
/** What a tenant ClusterQueue covers: every resource a roam pod requests. */
export const KUEUE_COVERED_RESOURCES = [
  'cpu',
  'memory',
  'nvidia.com/gpu',
  'ephemeral-storage',
  'pods',
] as const;

export interface TenantQueues {
  name: string;
  namespace: string;
  cohort: string;
  flavor: string;
  labels: Record<string, string>;
  /** AdmissionChecks every workload must pass before Kueue admits it (roam's inputs check). */
  admissionChecks?: string[];
}

/** The tenant's ClusterQueue: nominal quota from its limits, only its namespace may use it. */
export function tenantClusterQueue(
  limits: TenantLimits,
  storage: EphemeralStoragePolicy,
  q: TenantQueues,
) {
  const jobs = Math.max(1, limits.maxConcurrentJobs);
  const quota: Record<(typeof KUEUE_COVERED_RESOURCES)[number], string> = {
    cpu: formatCpu(limits.cpuMillis),
    memory: formatMemory(limits.memoryBytes),
    'nvidia.com/gpu': String(limits.gpu),
    'ephemeral-storage': formatMemory(memoryBytes(storage.perJob) * jobs),
    pods: String(jobs),
  };
  return {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ClusterQueue',
    metadata: { name: q.name, labels: q.labels },
    spec: {
      cohort: q.cohort,
      queueingStrategy: 'BestEffortFIFO',
      // Higher-priority workloads in the tenant's queue (Kueue priority classes) evict lower ones.
      preemption: { withinClusterQueue: 'LowerPriority' },
      ...(q.admissionChecks?.length ? { admissionChecks: q.admissionChecks } : {}),
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': q.namespace } },
      resourceGroups: [
        {
          coveredResources: [...KUEUE_COVERED_RESOURCES],
          flavors: [
            {
              name: q.flavor,
              resources: KUEUE_COVERED_RESOURCES.map((name) => ({
                name,
                nominalQuota: quota[name],
                borrowingLimit: '0',
              })),
            },
          ],
        },
      ],
    },
  };
}

export function tenantLocalQueue(
  name: string,
  namespace: string,
  clusterQueue: string,
  labels: Record<string, string>,
) {
  return {
    apiVersion: KUEUE_API_VERSION,
    kind: 'LocalQueue',
    metadata: { name, namespace, labels },
    spec: { clusterQueue },
  };
}
