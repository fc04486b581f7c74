// ExtendedResourceToleration: pods asking for nvidia.com/gpu (or any extended resource)
// tolerate the taint of the same name, as GKE and most GPU clusters enable.
import type { Pod } from '../api/models.js';
import type { KubeObject, ResourceType } from '../api/registry.js';
import type { AdmissionPlugin, Operation } from '../api/resources.js';

export class ExtendedResourceTolerationAdmission implements AdmissionPlugin {
  admit(op: Operation, type: ResourceType, obj: KubeObject): void {
    if (op !== 'CREATE' || type.plural !== 'pods' || type.group !== '') return;
    const pod = obj as Pod;
    if (!pod.spec) return;
    const names = new Set<string>();
    for (const c of pod.spec.containers) {
      for (const k of [
        ...Object.keys(c.resources?.requests ?? {}),
        ...Object.keys(c.resources?.limits ?? {}),
      ]) {
        if (k.includes('/') && !k.startsWith('kubernetes.io/')) names.add(k);
      }
    }
    if (names.size === 0) return;
    const tolerations = (pod.spec.tolerations ??= []);
    for (const key of names) {
      if (!tolerations.some((t) => t.key === key))
        tolerations.push({ key, operator: 'Exists', effect: 'NoSchedule' });
    }
  }
}
