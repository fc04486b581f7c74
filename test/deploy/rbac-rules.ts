// What a ServiceAccount may do under rendered manifests, for the tests that check the RBAC in
// deploy/ against the Kubernetes calls the apps really make (recorded by the simulator).
import type { K8sObject } from './kustomize-render.js';

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

/** Every rule bound to `roam-<app>`'s ServiceAccount by the rendered manifests. */
export function rulesOf(objects: K8sObject[], serviceAccount: string): Rule[] {
  const roles = new Map<string, Rule[]>();
  for (const object of objects) {
    if (object.kind === 'ClusterRole' || object.kind === 'Role') {
      roles.set(
        `${object.kind}/${object.metadata?.name}`,
        (object as { rules?: Rule[] }).rules ?? [],
      );
    }
  }
  const rules: Rule[] = [];
  for (const object of objects) {
    if (object.kind !== 'ClusterRoleBinding' && object.kind !== 'RoleBinding') continue;
    const binding = object as {
      subjects?: { kind: string; name: string }[];
      roleRef?: { kind: string; name: string };
    };
    if (
      !binding.subjects?.some(
        (subject) => subject.kind === 'ServiceAccount' && subject.name === serviceAccount,
      )
    )
      continue;
    rules.push(...(roles.get(`${binding.roleRef?.kind}/${binding.roleRef?.name}`) ?? []));
  }
  return rules;
}

export const allows = (rules: Rule[], call: { group: string; resource: string; verb: string }) =>
  rules.some(
    (rule) =>
      (rule.apiGroups ?? []).includes(call.group) &&
      (rule.resources ?? []).includes(call.resource) &&
      (rule.verbs ?? []).includes(call.verb),
  );
