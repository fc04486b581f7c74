// Effective pod requests/limits the way the scheduler and quota see them: the sum over
// containers, raised to the largest init container.
import type { Pod } from '../api/models.js';
import { addInto, parseResourceList, type ResourceList } from '../api/quantity.js';
import type { KubeObject } from '../api/registry.js';

export function podResources(obj: KubeObject, kind: 'requests' | 'limits'): ResourceList {
  const pod = obj as Pod;
  const total: ResourceList = {};
  for (const c of pod.spec?.containers ?? [])
    addInto(total, parseResourceList(c.resources?.[kind]));
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(parseResourceList(c.resources?.[kind])))
      total[k] = Math.max(total[k] ?? 0, v);
  }
  return total;
}

export function isTerminal(obj: KubeObject): boolean {
  const phase = (obj as Pod).status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
