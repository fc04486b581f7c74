import { formatCpu, formatMemory } from './quantity.js';

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
 * The ResourceQuota `hard` map for a tenant (SUMO-K8 shape plus GPU). `pods` allows two per
 * concurrent job so a retry's new pod can start while the old one terminates, and never
 * fewer than SUMO-K8's 10.
 */
export function quotaHard(limits: TenantLimits): Record<string, string> {
  return {
    'requests.cpu': formatCpu(limits.cpuMillis),
    'requests.memory': formatMemory(limits.memoryBytes),
    'requests.nvidia.com/gpu': String(limits.gpu),
    pods: String(Math.max(10, limits.maxConcurrentJobs * 2)),
  };
}

/** Defaults a LimitRange gives containers that set no requests/limits of their own. */
export const containerDefaults = {
  defaultRequest: { cpu: '100m', memory: '128Mi' },
  default: { cpu: '1', memory: '1Gi' },
} as const;
