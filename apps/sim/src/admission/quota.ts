// ResourceQuota admission and usage. Usage is computed from the store on each check so
// concurrent creates can never both slip under the limit.
import type { PersistentVolumeClaim, ResourceQuota } from '../api/models.js';
import { formatQuantity, parseResourceList, type ResourceList } from '../api/quantity.js';
import type { KubeObject, ResourceType } from '../api/registry.js';
import { typeKey } from '../api/registry.js';
import type { AdmissionPlugin, Operation } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import type { Store } from '../store/store.js';
import { isTerminal, podResources } from './resources.js';

const COUNTED_CORE: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  resourcequotas: 'resourcequotas',
};

/** What one object adds to quota usage, by quota resource name. */
export function usageOf(type: ResourceType, obj: KubeObject): ResourceList {
  const out: ResourceList = { [`count/${typeKey(type)}`]: 1 };
  const core = type.group === '' ? COUNTED_CORE[type.plural] : undefined;
  if (type.group === '' && type.plural === 'pods') {
    if (isTerminal(obj)) return {};
    out.pods = 1;
    for (const [k, v] of Object.entries(podResources(obj, 'requests'))) {
      out[`requests.${k}`] = v;
      if (k === 'cpu' || k === 'memory') out[k] = v;
    }
    for (const [k, v] of Object.entries(podResources(obj, 'limits'))) out[`limits.${k}`] = v;
    return out;
  }
  if (core) out[core] = 1;
  if (type.group === '' && type.plural === 'persistentvolumeclaims') {
    const storage = parseResourceList(
      (obj as PersistentVolumeClaim).spec?.resources?.requests,
    ).storage;
    if (storage !== undefined) out['requests.storage'] = storage;
  }
  return out;
}

/**
 * `usageOf` of stored objects, computed once per stored object: the store never changes one in
 * place (a write stores a new object), so the object itself is the key. Without it every create
 * in a namespace with a quota re-parsed the resources of every pod already there.
 */
const storedUsage = new WeakMap<KubeObject, Readonly<ResourceList>>();

function usageOfStored(type: ResourceType, obj: KubeObject): Readonly<ResourceList> {
  let usage = storedUsage.get(obj);
  if (!usage) {
    usage = usageOf(type, obj);
    storedUsage.set(obj, usage);
  }
  return usage;
}

function tracked(hard: ResourceList): boolean {
  return Object.keys(hard).length > 0;
}

export function namespaceUsage(
  store: Store,
  registry: { all(): ResourceType[] },
  namespace: string,
  keys: string[],
): ResourceList {
  const used: ResourceList = {};
  for (const k of keys) used[k] = 0;
  const wanted = new Set(keys);
  for (const type of registry.all()) {
    if (!type.namespaced) continue;
    const counted = `count/${typeKey(type)}`;
    const relevant =
      wanted.has(counted) ||
      (type.group === '' &&
        ((COUNTED_CORE[type.plural] && wanted.has(COUNTED_CORE[type.plural]!)) ||
          type.plural === 'pods' ||
          type.plural === 'persistentvolumeclaims'));
    if (!relevant) continue;
    for (const obj of store.list(typeKey(type), namespace)) {
      for (const [k, v] of Object.entries(usageOfStored(type, obj)))
        if (wanted.has(k)) used[k] = (used[k] ?? 0) + v;
    }
  }
  return used;
}

export class QuotaAdmission implements AdmissionPlugin {
  constructor(
    private readonly store: Store,
    private readonly registry: { all(): ResourceType[] },
  ) {}

  admit(op: Operation, type: ResourceType, obj: KubeObject, old: KubeObject | undefined): void {
    if (!type.namespaced) return;
    const ns = obj.metadata.namespace ?? '';
    const quotas = [...this.store.list<ResourceQuota>('resourcequotas', ns)];
    if (quotas.length === 0) return;
    const delta = usageOf(type, obj);
    if (op === 'UPDATE' && old) {
      // Only growth on update is checked (e.g. a PVC resize); counts do not change.
      const before = usageOf(type, old);
      for (const k of Object.keys(delta)) delta[k] = (delta[k] ?? 0) - (before[k] ?? 0);
      if (!Object.values(delta).some((v) => v > 0)) return;
    }
    for (const q of quotas) {
      const hard = parseResourceList(q.spec?.hard);
      if (!tracked(hard)) continue;
      if (type.group === '' && type.plural === 'pods' && op === 'CREATE') {
        const missing = Object.keys(hard).filter(
          (k) => /^(requests\.|limits\.)?(cpu|memory)$/.test(k) && delta[k] === undefined,
        );
        if (missing.length) {
          throw new ApiError(
            403,
            'Forbidden',
            `pods "${obj.metadata.name}" is forbidden: failed quota: ${q.metadata.name}: must specify ${missing.sort().join(',')}`,
            { name: obj.metadata.name, kind: 'pods' },
          );
        }
      }
      const relevant = Object.keys(hard).filter((k) => (delta[k] ?? 0) > 0);
      if (relevant.length === 0) continue;
      const used = namespaceUsage(this.store, this.registry, ns, relevant);
      const exceeded = relevant.filter((k) => (used[k] ?? 0) + (delta[k] ?? 0) > hard[k]! + 1e-9);
      if (exceeded.length) {
        const fmt = (src: ResourceList) =>
          exceeded
            .sort()
            .map((k) => `${k}=${formatQuantity(src[k] ?? 0, k)}`)
            .join(',');
        const qualified = type.group ? `${type.plural}.${type.group}` : type.plural;
        throw new ApiError(
          403,
          'Forbidden',
          `${qualified} "${obj.metadata.name}" is forbidden: exceeded quota: ${q.metadata.name}, requested: ${fmt(delta)}, used: ${fmt(used)}, limited: ${fmt(hard)}`,
          { name: obj.metadata.name, group: type.group, kind: type.plural },
        );
      }
    }
  }
}
