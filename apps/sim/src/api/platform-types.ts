// Kinds a deployment applies (ServiceAccounts, Deployments, RBAC, disruption budgets,
// network policies, autoscalers). The simulator stores and serves them, so `kubectl apply`
// of roam's own manifests works against it; no controller acts on them (a Deployment starts
// no pods here: roam's workers run as processes next to the simulator).
import type { Registry, ResourceType } from './registry.js';

const stored = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
): ResourceType => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames,
  subresources: ['status'],
});

export const platformTypes: ResourceType[] = [
  stored('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  stored('apps', 'v1', 'Deployment', 'deployments', true, ['deploy']),
  stored('apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts']),
  stored('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds']),
  stored('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  stored('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  stored('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  stored('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  stored('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb']),
  stored('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, ['netpol']),
  stored('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa']),
];

export function registerPlatformTypes(registry: Registry): void {
  for (const type of platformTypes) registry.register(type);
}
