import { isIP } from 'node:net';

import type { KubernetesObject } from '@roam/kube';

export const NETWORK_POLICY_NAME = 'roam-tenant-isolation';

/** Pod Security Admission levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export const POD_SECURITY_LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

export interface TenantIsolation {
  /** Off = no NetworkPolicy is written (a cluster whose CNI enforces none, or an existing one). */
  networkPolicy: boolean;
  /** Egress destinations tenant pods never reach: cluster, roam, data stores, metadata. */
  denyCidrs: readonly string[];
  /** Exceptions inside `denyCidrs` tenant pods do reach (the object store of presigned URLs). */
  allowCidrs: readonly string[];
  enforce: PodSecurityLevel;
  /** The level the namespace warns (kubectl) and audits (API server log) against. */
  warn: PodSecurityLevel;
}

/** The metadata service of every major cloud: always denied, whatever the configuration. */
export const METADATA_CIDR = '169.254.169.254/32';

const parseList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

const family = (cidr: string): 4 | 6 => (isIP(cidr.split('/')[0] ?? '') === 6 ? 6 : 4);
const withPrefix = (cidr: string): string =>
  cidr.includes('/') ? cidr : `${cidr}/${family(cidr) === 4 ? 32 : 128}`;

export function tenantIsolationOf(config: {
  TENANT_NETWORK_POLICY: boolean;
  TENANT_EGRESS_DENY_CIDRS: string;
  TENANT_EGRESS_ALLOW_CIDRS?: string;
  TENANT_POD_SECURITY_ENFORCE: PodSecurityLevel;
  TENANT_POD_SECURITY_WARN: PodSecurityLevel;
}): TenantIsolation {
  return {
    networkPolicy: config.TENANT_NETWORK_POLICY,
    denyCidrs: [...new Set([...parseList(config.TENANT_EGRESS_DENY_CIDRS), METADATA_CIDR])].map(
      withPrefix,
    ),
    allowCidrs: parseList(config.TENANT_EGRESS_ALLOW_CIDRS).map(withPrefix),
    enforce: config.TENANT_POD_SECURITY_ENFORCE,
    warn: config.TENANT_POD_SECURITY_WARN,
  };
}

/** The namespace labels Pod Security Admission reads. */
export function podSecurityLabels(isolation: TenantIsolation): Record<string, string> {
  return {
    'pod-security.kubernetes.io/enforce': isolation.enforce,
    'pod-security.kubernetes.io/warn': isolation.warn,
    'pod-security.kubernetes.io/audit': isolation.warn,
  };
}

/**
 * The tenant namespace's NetworkPolicy. Ingress only from pods of the same namespace (the pods
 * of a multi-node job talk to each other). Egress to the same namespace, to the cluster DNS,
 * and to any address outside `denyCidrs` (the internet), plus the `allowCidrs` exceptions; so
 * not to roam's namespace, NATS, Postgres, other tenants, the API server's service address or
 * the cloud metadata service. IP blocks are evaluated after service addresses are translated to
 * pod addresses, so the pod and service ranges both belong in `denyCidrs`.
 */
export function tenantNetworkPolicy(
  namespace: string,
  labels: Record<string, string>,
  isolation: TenantIsolation,
): KubernetesObject & { spec: unknown } {
  const internet = ([4, 6] as const).map((f) => ({
    ipBlock: {
      cidr: f === 4 ? '0.0.0.0/0' : '::/0',
      except: isolation.denyCidrs.filter((cidr) => family(cidr) === f),
    },
  }));
  const egress: unknown[] = [
    { to: [{ podSelector: {} }] },
    {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
    {
      to: internet.map((peer) =>
        peer.ipBlock.except.length > 0 ? peer : { ipBlock: { cidr: peer.ipBlock.cidr } },
      ),
    },
  ];
  if (isolation.allowCidrs.length > 0) {
    egress.push({ to: isolation.allowCidrs.map((cidr) => ({ ipBlock: { cidr } })) });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: NETWORK_POLICY_NAME, namespace, labels },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      // Ingress only from the namespace's own pods (an empty rule would allow all).
      ingress: [{ from: [{ podSelector: {} }] }],
      egress,
    },
  };
}
