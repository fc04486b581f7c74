import { formatCpu, formatMemory, memoryBytes } from './quantity.js';

/** Namespaces are `roam-<tenant>` and must stay a DNS-1123 label (≤ 63 characters). */
export const NAMESPACE_PREFIX = 'roam-';
export const MAX_TENANT_ID_LENGTH = 63 - NAMESPACE_PREFIX.length;

/** Ids that would collide with routes (`/tenants/me`), system namespaces or roam's own names. */
export const RESERVED_TENANT_IDS: ReadonlySet<string> = new Set([
  'admin',
  'api',
  'auth',
  'default',
  'health',
  'internal',
  'kube-node-lease',
  'kube-public',
  'kube-system',
  'me',
  'metrics',
  'roam',
  'root',
  'system',
]);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `id` cannot name a tenant, or undefined when it can. */
export function tenantIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'must not be empty';
  if (id.length > MAX_TENANT_ID_LENGTH) return `must be at most ${MAX_TENANT_ID_LENGTH} characters`;
  if (!DNS_LABEL.test(id)) {
    return 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';
  }
  if (RESERVED_TENANT_IDS.has(id) || id.startsWith('kube-')) return `"${id}" is reserved`;
  return undefined;
}

export const namespaceFor = (tenantId: string): string => `${NAMESPACE_PREFIX}${tenantId}`;

export interface TenantLimits {
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
  maxConcurrentJobs: number;
}

/**
 * How much node disk (`ephemeral-storage`: container writable layers, logs, emptyDirs) a
 * tenant's containers may use, as Kubernetes quantities chosen by the operator. Without a bound
 * one tenant can fill a node's disk and get every pod on it evicted, other tenants' included.
 */
export interface EphemeralStoragePolicy {
  /** Request given to a container that sets none. */
  defaultRequest: string;
  /** Limit given to a container that sets none. */
  defaultLimit: string;
  /** Largest limit one container may have. */
  max: string;
  /** Requests and limits of the whole namespace, per concurrent job the tenant may run. */
  perJob: string;
}

/**
 * The ResourceQuota `hard` map for a tenant (SUMO-K8 shape plus GPU and node disk). `pods` allows
 * two per concurrent job so a retry's new pod can start while the old one terminates, and
 * never fewer than SUMO-K8's 10; ephemeral storage scales the same way from `perJob`.
 */
export function quotaHard(
  limits: TenantLimits,
  storage: EphemeralStoragePolicy,
): Record<string, string> {
  const disk = formatMemory(memoryBytes(storage.perJob) * Math.max(1, limits.maxConcurrentJobs));
  return {
    'requests.cpu': formatCpu(limits.cpuMillis),
    'requests.memory': formatMemory(limits.memoryBytes),
    'requests.nvidia.com/gpu': String(limits.gpu),
    'requests.ephemeral-storage': disk,
    'limits.ephemeral-storage': disk,
    pods: String(Math.max(10, limits.maxConcurrentJobs * 2)),
  };
}

/** The LimitRange item for a tenant's containers: defaults for those that set nothing, and a ceiling on disk. */
export function containerLimits(storage: EphemeralStoragePolicy) {
  return {
    type: 'Container',
    defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': storage.defaultRequest },
    default: { cpu: '1', memory: '1Gi', 'ephemeral-storage': storage.defaultLimit },
    max: { 'ephemeral-storage': storage.max },
  };
}

/** Labels that mark a namespace as roam's, made for `tenantId` (see `tenantLabels` in the kube port). */
export const NAMESPACE_OWNER_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  tenant: 'roam.dev/tenant',
} as const;

/**
 * Why an existing namespace may not be adopted for `tenantId`, or undefined when roam made it
 * for that tenant. A namespace someone else made (or roam made for another tenant) is never
 * taken over: its contents are not roam's to change or delete.
 */
export function namespaceOwnershipProblem(
  namespace: string,
  labels: Record<string, string> | undefined,
  tenantId: string,
): string | undefined {
  const managedBy = labels?.[NAMESPACE_OWNER_LABELS.managedBy];
  const owner = labels?.[NAMESPACE_OWNER_LABELS.tenant];
  if (managedBy === 'roam' && owner === tenantId) return undefined;
  const found =
    managedBy === 'roam'
      ? `roam made it for tenant "${owner ?? '(none)'}"`
      : `it is not labelled ${NAMESPACE_OWNER_LABELS.managedBy}=roam, ${NAMESPACE_OWNER_LABELS.tenant}=${tenantId}`;
  return `namespace ${namespace} already exists and is not this tenant's (${found}); roam leaves it untouched. Remove or relabel it, or register under another id`;
}
