// The downward API, for container env: `valueFrom.fieldRef` resolves against the pod as the
// kubelet starts the container (an annotation or label the pod lacks is the empty string, as on
// a cluster). Other sources (secrets, config maps, resources) stay unresolved.
import type { Container, Pod } from '../api/models.js';

const KEYED = /^metadata\.(annotations|labels)\['([^']+)'\]$/;

/** The value of a `fieldRef.fieldPath` on `pod`, or undefined for a path not simulated. */
export function fieldValue(pod: Pod, path: string): string | undefined {
  const keyed = KEYED.exec(path);
  if (keyed) return (pod.metadata[keyed[1] as 'annotations' | 'labels'] ?? {})[keyed[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    default:
      return undefined;
  }
}

/** The container with each `fieldRef` env var given its value from the pod. */
export function withDownwardEnv(c: Container, pod: Pod): Container {
  if (!c.env?.some((e) => e.valueFrom !== undefined)) return c;
  return {
    ...c,
    env: c.env.map((e) => {
      const path = (e.valueFrom as { fieldRef?: { fieldPath?: string } } | undefined)?.fieldRef
        ?.fieldPath;
      const value = path === undefined ? undefined : fieldValue(pod, path);
      return value === undefined ? e : { name: e.name, value };
    }),
  };
}
