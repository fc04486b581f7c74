// ResourceQuota admission and usage. Usage is read from the store's current state on each
// check (kept incrementally, see QuotaUsageIndex) so concurrent creates can never both slip
// under the limit.
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

/** The usage keys `type` can add to (its count, and the core resources it is quoted by). */
function countsTowards(type: ResourceType, wanted: Set<string>): boolean {
  return (
    wanted.has(`count/${typeKey(type)}`) ||
    (type.group === '' &&
      ((COUNTED_CORE[type.plural] !== undefined && wanted.has(COUNTED_CORE[type.plural]!)) ||
        type.plural === 'pods' ||
        type.plural === 'persistentvolumeclaims'))
  );
}

/**
 * A namespace's usage summed from scratch over its stored objects: what `namespaceUsage`
 * keeps incrementally (tests compare the two).
 */
export function recomputeNamespaceUsage(
  store: Store,
  registry: { all(): ResourceType[] },
  namespace: string,
  keys: string[],
): ResourceList {
  const used: ResourceList = {};
  for (const k of keys) used[k] = 0;
  const wanted = new Set(keys);
  for (const type of registry.all()) {
    if (!type.namespaced || !countsTowards(type, wanted)) continue;
    for (const obj of store.list(typeKey(type), namespace)) {
      for (const [k, v] of Object.entries(usageOfStored(type, obj)))
        if (wanted.has(k)) used[k] = (used[k] ?? 0) + v;
    }
  }
  return used;
}

/**
 * A running sum of quantities that stays exact however many are added and taken away: whole
 * base units and the nano-units below them (the finest quantity suffix) are both integers, so
 * subtracting what was added gives back exactly what was there (a float sum would drift).
 */
class ExactSum {
  whole = 0;
  nano = 0;

  add(v: number, sign: 1 | -1): void {
    const whole = Math.trunc(v);
    this.whole += sign * whole;
    this.nano += sign * Math.round((v - whole) * 1e9);
    if (this.nano >= 1e9 || this.nano < 0) {
      const carry = Math.floor(this.nano / 1e9);
      this.whole += carry;
      this.nano -= carry * 1e9;
    }
  }

  get value(): number {
    return this.whole + this.nano / 1e9;
  }
}

/**
 * Per-namespace quota usage kept from the store's changes, so an admission or a quota status
 * costs the same however many pods the namespace holds (summing them on every pod create made
 * the simulator's cost per Job grow with the backlog). A namespace is summed once, the first
 * time it is asked for, then follows every create, update and delete in it; it is dropped with
 * its Namespace. Kept as a store index, so it is current before any listener of a change runs.
 */
class QuotaUsageIndex {
  private readonly byNamespace = new Map<string, Map<string, ExactSum>>();

  constructor(private readonly store: Store) {
    store.addIndex((key, ev) => {
      if (key === 'namespaces' && ev.type === 'DELETED') {
        this.byNamespace.delete(ev.object.metadata.name ?? '');
        return;
      }
      const ns = ev.object.metadata.namespace;
      if (ns === undefined) return;
      const totals = this.byNamespace.get(ns);
      if (!totals) return;
      const type = store.registry.get(key);
      if (!type.namespaced) return;
      if (ev.type !== 'DELETED') this.add(totals, usageOfStored(type, ev.object), 1);
      if (ev.type !== 'ADDED' && ev.old) this.add(totals, usageOfStored(type, ev.old), -1);
    });
  }

  private add(totals: Map<string, ExactSum>, usage: Readonly<ResourceList>, sign: 1 | -1): void {
    for (const k in usage) {
      let sum = totals.get(k);
      if (!sum) totals.set(k, (sum = new ExactSum()));
      sum.add(usage[k]!, sign);
    }
  }

  usage(namespace: string, keys: string[]): ResourceList {
    let totals = this.byNamespace.get(namespace);
    if (!totals) {
      totals = new Map();
      for (const type of this.store.registry.all()) {
        if (!type.namespaced) continue;
        for (const obj of this.store.list(typeKey(type), namespace))
          this.add(totals, usageOfStored(type, obj), 1);
      }
      this.byNamespace.set(namespace, totals);
    }
    const used: ResourceList = {};
    for (const k of keys) used[k] = totals.get(k)?.value ?? 0;
    return used;
  }
}

const indexes = new WeakMap<Store, QuotaUsageIndex>();

/** What the objects of `namespace` use of each quota resource in `keys`. */
export function namespaceUsage(store: Store, namespace: string, keys: string[]): ResourceList {
  let index = indexes.get(store);
  if (!index) indexes.set(store, (index = new QuotaUsageIndex(store)));
  return index.usage(namespace, keys);
}

export class QuotaAdmission implements AdmissionPlugin {
  constructor(private readonly store: Store) {}

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
      const used = namespaceUsage(this.store, ns, relevant);
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
