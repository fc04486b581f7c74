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

/** `$(NAME)` (a variable defined earlier in the list) or `$$` (a literal `$`), as the kubelet expands them. */
const REFERENCE = /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g;

/**
 * The container with each `fieldRef` env var given its value from the pod, and every value's
 * `$(NAME)` references to variables defined before it expanded, as the kubelet does (a
 * reference to an unknown variable stays as written).
 */
export function withDownwardEnv(c: Container, pod: Pod): Container {
  if (!c.env?.some((e) => e.valueFrom !== undefined || e.value?.includes('$'))) return c;
  const defined = new Map<string, string>();
  return {
    ...c,
    env: c.env.map((e) => {
      const path = (e.valueFrom as { fieldRef?: { fieldPath?: string } } | undefined)?.fieldRef
        ?.fieldPath;
      const resolved = path === undefined ? undefined : fieldValue(pod, path);
      let value = resolved ?? e.value;
      if (resolved === undefined && value !== undefined)
        value = value.replace(REFERENCE, (match, name: string | undefined) =>
          name === undefined ? '$' : (defined.get(name) ?? match),
        );
      if (value !== undefined) defined.set(e.name, value);
      if (value === undefined) return e;
      return resolved === undefined && value === e.value ? e : { name: e.name, value };
    }),
  };
}
