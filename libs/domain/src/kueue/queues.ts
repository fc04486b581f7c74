// ROAM_ADMISSION=kueue: a tenant as Kueue objects (docs/scheduling.md#kueue-quota). Its limits
// become the nominal quota of its own ClusterQueue; the LocalQueue in its namespace points at
// it (or at an operator's ClusterQueue).
//
// - A tenant without a roam cohort is in the cohort all such tenants share, with
//   `borrowingLimit: 0`: its limits stay caps, as in roam mode.
// - A tenant with a roam cohort is in the Kueue cohort `roam-cohort-<cohort>` (prefixed, so it
//   never meets an operator's cohort): its limits are its guarantee (nominal quota), its roam
//   `borrowing_limit` is Kueue's `borrowingLimit` (absent: no limit field, borrow what the cohort
//   has idle), and its preemption policy is roam's rules (docs/scheduling.md#borrowing):
//   reclaim (rule 5) is `reclaimWithinCohort: Any`, priority within the tenant (rule 6) is
//   `withinClusterQueue: LowerPriority`, and borrowing takes only what is idle (rule 4), so
//   `borrowWithinCohort: Never`.
// - Per-type GPU quotas and TPU quotas are ResourceFlavors with GKE's node labels, one per type,
//   each with its own nominal quota of `nvidia.com/gpu` / `google.com/tpu` (caps: never lent).
import { formatCpu, formatMemory, memoryBytes } from '../quantity.js';
import { GKE_ACCELERATOR_LABEL } from '../scheduling/nodes.js';
import type { Resources } from '../scheduling/resources.js';
import { GKE_TPU_ACCELERATOR_LABEL } from '../scheduling/tpu.js';
import type { EphemeralStoragePolicy, TenantLimits } from '../tenancy.js';

export const KUEUE_API_VERSION = 'kueue.x-k8s.io/v1beta1';
/** The resources of a tenant ClusterQueue's first group (in the generic flavor). */
export const KUEUE_COVERED_RESOURCES = [
  'cpu',
  'memory',
  'nvidia.com/gpu',
  'ephemeral-storage',
  'pods',
] as const;
export const KUEUE_GPU_RESOURCE = 'nvidia.com/gpu';
export const KUEUE_TPU_RESOURCE = 'google.com/tpu';
/** The flavor of TPU chips of any type, for a tenant whose TPU quota names no types. */
export const KUEUE_TPU_FLAVOR = 'roam-tpu';
/**
 * The nominal quota of chips for a tenant without a TPU quota (`max_tpu: null`, no cap in roam
 * mode): Kueue needs a number for every covered resource.
 */
export const KUEUE_UNCAPPED_TPU = 1_000_000;
/** Prefix of the Kueue cohort of a roam cohort (an operator's cohorts never start with it). */
export const KUEUE_ROAM_COHORT_PREFIX = 'roam-cohort-';

type Resource = (typeof KUEUE_COVERED_RESOURCES)[number];

/** What of a tenant its ClusterQueue is made of. */
export interface KueueTenant {
  limits: TenantLimits;
  /** GPUs per accelerator type; `limits.gpu` is their sum (docs/scheduling.md#flavors). */
  gpuByType?: Readonly<Record<string, number>> | null;
  /** TPU chips of all types; null/undefined: no cap. */
  tpu?: number | null;
  /** TPU chips per TPU type; `tpu` is their sum. */
  tpuByType?: Readonly<Record<string, number>> | null;
  /** roam cohort; null: limits are caps. */
  cohort?: string | null;
  /** How far beyond its guarantee it may borrow, per resource; a resource left out: no cap. */
  borrowingLimit?: Partial<Resources> | null;
}

export interface TenantQueues {
  name: string;
  namespace: string;
  /** The cohort of tenants without a roam cohort (KUEUE_COHORT). */
  cohort: string;
  /** The generic flavor of cpu, memory, disk, pods (and GPUs without per-type quotas). */
  flavor: string;
  labels: Record<string, string>;
  /** AdmissionChecks every workload must pass before Kueue admits it (roam's inputs check). */
  admissionChecks?: string[];
}

/** A ResourceFlavor roam needs: its name and the node labels a workload assigned it gets. */
export interface RoamFlavor {
  name: string;
  nodeLabels: Record<string, string>;
}

/** The Kueue cohort of a tenant: its roam cohort, prefixed, or the shared one of capped tenants. */
export const kueueCohortOf = (cohort: string | null | undefined, shared: string): string =>
  cohort ? `${KUEUE_ROAM_COHORT_PREFIX}${cohort}` : shared;

/** The flavor of GPUs of one accelerator type (node label `cloud.google.com/gke-accelerator`). */
export const gpuFlavor = (type: string): RoamFlavor => ({
  name: `roam-gpu-${type}`,
  nodeLabels: { [GKE_ACCELERATOR_LABEL]: type },
});

/**
 * The flavor of TPU chips of one type (node label `cloud.google.com/gke-tpu-accelerator`). Not
 * per topology: roam's TPU quota is per type, and a job's pods already select their topology.
 */
export const tpuFlavor = (type: string): RoamFlavor => ({
  name: `roam-tpu-${type}`,
  nodeLabels: { [GKE_TPU_ACCELERATOR_LABEL]: type },
});

const typesOf = (byType: Readonly<Record<string, number>> | null | undefined) =>
  Object.entries(byType ?? {}).sort(([a], [b]) => a.localeCompare(b));

/** The ResourceFlavors a tenant's ClusterQueue names beyond the generic one. */
export function tenantFlavors(tenant: KueueTenant): RoamFlavor[] {
  const gpus = typesOf(tenant.gpuByType).map(([type]) => gpuFlavor(type));
  const tpuTypes = typesOf(tenant.tpuByType);
  const tpus =
    tpuTypes.length > 0
      ? tpuTypes.map(([type]) => tpuFlavor(type))
      : [{ name: KUEUE_TPU_FLAVOR, nodeLabels: {} }];
  return [...gpus, ...tpus];
}

/** The cluster-scoped ResourceFlavor object of a flavor. */
export function resourceFlavor(flavor: RoamFlavor, labels: Record<string, string>) {
  return {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ResourceFlavor',
    metadata: { name: flavor.name, labels },
    spec: Object.keys(flavor.nodeLabels).length > 0 ? { nodeLabels: flavor.nodeLabels } : {},
  };
}

/**
 * The borrowing limit of one resource of the generic flavor: 0 for a capped tenant, its roam
 * borrowing limit in a cohort (undefined: no field, no limit); concurrency (`pods`) and disk
 * stay caps in a cohort too, as in roam mode.
 */
function borrowingLimitOf(tenant: KueueTenant, resource: Resource): string | undefined {
  if (!tenant.cohort || resource === 'pods' || resource === 'ephemeral-storage') return '0';
  const limit = tenant.borrowingLimit ?? {};
  if (resource === 'cpu')
    return limit.cpuMillis === undefined ? undefined : formatCpu(limit.cpuMillis);
  if (resource === 'memory')
    return limit.memoryBytes === undefined ? undefined : formatMemory(limit.memoryBytes);
  // GPUs of a tenant whose quota names types are in per-type flavors, which are caps.
  return limit.gpu === undefined ? undefined : String(limit.gpu);
}

/** A flavor of one resource whose quota is a cap (never lent, never borrowed beyond). */
const capped = (name: string, resource: string, nominalQuota: number) => ({
  name,
  resources: [{ name: resource, nominalQuota: String(nominalQuota), borrowingLimit: '0' }],
});

/** The tenant's ClusterQueue: nominal quota from its limits, only its namespace may use it. */
export function tenantClusterQueue(
  tenant: KueueTenant,
  storage: EphemeralStoragePolicy,
  q: TenantQueues,
) {
  const { limits } = tenant;
  const jobs = Math.max(1, limits.maxConcurrentJobs);
  const gpuTypes = typesOf(tenant.gpuByType);
  const quota: Record<Resource, string> = {
    cpu: formatCpu(limits.cpuMillis),
    memory: formatMemory(limits.memoryBytes),
    'nvidia.com/gpu': String(limits.gpu),
    'ephemeral-storage': formatMemory(memoryBytes(storage.perJob) * jobs),
    pods: String(jobs),
  };
  // With per-type GPU quotas, GPUs are in the types' flavors, not the generic one.
  const generic = KUEUE_COVERED_RESOURCES.filter(
    (r) => r !== KUEUE_GPU_RESOURCE || gpuTypes.length === 0,
  );
  const tpuTypes = typesOf(tenant.tpuByType);
  const resourceGroups = [
    {
      coveredResources: [...generic],
      flavors: [
        {
          name: q.flavor,
          resources: generic.map((name) => {
            const borrowingLimit = borrowingLimitOf(tenant, name);
            return {
              name,
              nominalQuota: quota[name],
              ...(borrowingLimit !== undefined ? { borrowingLimit } : {}),
            };
          }),
        },
      ],
    },
    ...(gpuTypes.length > 0
      ? [
          {
            coveredResources: [KUEUE_GPU_RESOURCE],
            flavors: gpuTypes.map(([type, n]) =>
              capped(gpuFlavor(type).name, KUEUE_GPU_RESOURCE, n),
            ),
          },
        ]
      : []),
    {
      coveredResources: [KUEUE_TPU_RESOURCE],
      flavors:
        tpuTypes.length > 0
          ? tpuTypes.map(([type, n]) => capped(tpuFlavor(type).name, KUEUE_TPU_RESOURCE, n))
          : [capped(KUEUE_TPU_FLAVOR, KUEUE_TPU_RESOURCE, tenant.tpu ?? KUEUE_UNCAPPED_TPU)],
    },
  ];
  return {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ClusterQueue',
    metadata: { name: q.name, labels: q.labels },
    spec: {
      cohort: kueueCohortOf(tenant.cohort, q.cohort),
      queueingStrategy: 'BestEffortFIFO',
      // Every field written, so a merge-patch never leaves a cohort member's policy behind on a
      // tenant that left its cohort (resourceGroups, an array, is replaced whole).
      preemption: {
        withinClusterQueue: 'LowerPriority',
        reclaimWithinCohort: tenant.cohort ? 'Any' : 'Never',
        borrowWithinCohort: { policy: 'Never' },
      },
      ...(q.admissionChecks?.length ? { admissionChecks: q.admissionChecks } : {}),
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': q.namespace } },
      resourceGroups,
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
