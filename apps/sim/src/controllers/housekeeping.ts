// Controllers that keep the cluster's bookkeeping true: garbage collection by ownerReferences
// (background, foreground, orphan), namespace teardown, PVC binding and ResourceQuota usage.
import type { Namespace, PersistentVolumeClaim, ResourceQuota } from '../api/models.js';
import { formatQuantity, parseResourceList } from '../api/quantity.js';
import type { KubeObject, Registry } from '../api/registry.js';
import { typeKey } from '../api/registry.js';
import { ApiError } from '../api/status.js';
import { namespaceUsage } from '../admission/quota.js';
import type { Store, StoredEvent } from '../store/store.js';
import { WorkQueue } from './runtime.js';

function ignoreNotFound(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
}

export class GarbageCollector {
  /** uid → where the owner lives, for owners waiting on foreground/orphan finalizers. */
  private readonly waiting = new Map<string, { key: string; namespace: string; name: string }>();
  private readonly queue: WorkQueue;

  constructor(private readonly store: Store) {
    this.queue = new WorkQueue((uid) => this.process(uid));
  }

  start(): void {
    this.store.onChange((key, ev) => this.onEvent(key, ev));
  }

  private onEvent(key: string, ev: StoredEvent): void {
    const meta = ev.object.metadata;
    const uid = meta.uid ?? '';
    if (ev.type === 'DELETED') {
      this.waiting.delete(uid);
      if (this.store.dependentsOf(uid).length) this.queue.add(`deleted:${uid}`);
      for (const o of meta.ownerReferences ?? [])
        if (this.waiting.has(o.uid)) this.queue.add(`wait:${o.uid}`);
      return;
    }
    if (
      meta.deletionTimestamp &&
      (meta.finalizers ?? []).some((f) => f === 'foregroundDeletion' || f === 'orphan')
    ) {
      this.waiting.set(uid, { key, namespace: meta.namespace ?? '', name: meta.name ?? '' });
      this.queue.add(`wait:${uid}`);
    }
  }

  private process(item: string): void {
    const [kind, uid] = item.split(':') as [string, string];
    if (kind === 'deleted') {
      for (const d of this.store.dependentsOf(uid)) this.releaseOrDelete(d, uid, 'Background');
      return;
    }
    const owner = this.waiting.get(uid);
    if (!owner) return;
    const obj = this.store.get(owner.key, owner.namespace || undefined, owner.name);
    if (!obj || obj.metadata.uid !== uid) return void this.waiting.delete(uid);
    const finalizers = obj.metadata.finalizers ?? [];
    const deps = this.store.dependentsOf(uid);
    if (finalizers.includes('orphan')) {
      for (const d of deps) {
        this.store.mutate(d.key, d.namespace || undefined, d.name, (o) => {
          o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter(
            (r) => r.uid !== uid,
          );
          if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        });
      }
      this.removeFinalizer(owner, 'orphan');
      return;
    }
    if (deps.length === 0) {
      this.removeFinalizer(owner, 'foregroundDeletion');
      return;
    }
    for (const d of deps) this.releaseOrDelete(d, uid, 'Foreground');
  }

  private releaseOrDelete(
    d: { key: string; namespace: string; name: string },
    ownerUid: string,
    policy: 'Background' | 'Foreground',
  ): void {
    const dep = this.store.get(d.key, d.namespace || undefined, d.name);
    if (!dep || dep.metadata.deletionTimestamp) return;
    const others = (dep.metadata.ownerReferences ?? []).filter(
      (r) => r.uid !== ownerUid && this.ownerExists(dep, r),
    );
    if (others.length) {
      this.store.mutate(d.key, d.namespace || undefined, d.name, (o) => {
        o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter(
          (r) => r.uid !== ownerUid,
        );
      });
      return;
    }
    const hasDeps = this.store.dependentsOf(dep.metadata.uid ?? '').length > 0;
    ignoreNotFound(() =>
      this.store.delete(d.key, d.namespace || undefined, d.name, {
        finalizers: policy === 'Foreground' && hasDeps ? ['foregroundDeletion'] : [],
      }),
    );
  }

  private ownerExists(
    dep: KubeObject,
    ref: { kind: string; name: string; uid: string; apiVersion: string },
  ): boolean {
    const type = this.store.registry.byKind(ref.apiVersion, ref.kind);
    // An owner of a kind the simulator does not serve cannot exist here.
    if (!type) return false;
    const owner = this.store.get(
      typeKey(type),
      type.namespaced ? dep.metadata.namespace : undefined,
      ref.name,
    );
    return owner?.metadata.uid === ref.uid;
  }

  private removeFinalizer(
    owner: { key: string; namespace: string; name: string },
    finalizer: string,
  ): void {
    this.store.mutate(owner.key, owner.namespace || undefined, owner.name, (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    });
  }

  close(): void {
    this.queue.close();
  }
}

export class NamespaceController {
  private readonly queue: WorkQueue;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
  ) {
    this.queue = new WorkQueue((name) => this.reconcile(name));
  }

  start(): void {
    this.store.onChange((key, ev) => {
      if (key === 'namespaces' && ev.type !== 'DELETED' && ev.object.metadata.deletionTimestamp)
        this.queue.add(ev.object.metadata.name ?? '');
    });
  }

  private reconcile(name: string): void {
    const ns = this.store.get<Namespace>('namespaces', undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    for (const type of this.registry.all()) {
      if (!type.namespaced) continue;
      const key = typeKey(type);
      for (const obj of [...this.store.list(key, name)]) {
        if ((obj.metadata.finalizers ?? []).length) {
          this.store.mutate(
            key,
            name,
            obj.metadata.name ?? '',
            (o) => void delete o.metadata.finalizers,
          );
        }
        ignoreNotFound(() => this.store.delete(key, name, obj.metadata.name ?? ''));
      }
    }
    ignoreNotFound(() => this.store.delete('namespaces', undefined, name));
  }

  close(): void {
    this.queue.close();
  }
}

/** Binds every claim at once, as a dynamic provisioner with Immediate binding would. */
export class VolumeBinder {
  constructor(private readonly store: Store) {}

  start(): void {
    this.store.onChange((key, ev) => {
      const pvc = ev.object as PersistentVolumeClaim;
      if (
        key !== 'persistentvolumeclaims' ||
        ev.type === 'DELETED' ||
        pvc.status?.phase === 'Bound'
      )
        return;
      setImmediate(() =>
        this.store.mutate<PersistentVolumeClaim>(
          'persistentvolumeclaims',
          pvc.metadata.namespace,
          pvc.metadata.name ?? '',
          (p) => {
            if (p.status?.phase === 'Bound' || p.metadata.uid !== pvc.metadata.uid) return false;
            const spec = (p.spec ??= {});
            spec.volumeName = `pvc-${p.metadata.uid}`;
            p.status = {
              phase: 'Bound',
              accessModes: spec.accessModes,
              capacity: { storage: spec.resources?.requests?.storage ?? '0' },
            };
          },
        ),
      );
    });
  }
}

const QUOTA_INPUTS = new Set([
  'pods',
  'persistentvolumeclaims',
  'resourcequotas',
  'services',
  'configmaps',
  'secrets',
]);

export class QuotaStatusController {
  private readonly queue: WorkQueue;

  constructor(private readonly store: Store) {
    this.queue = new WorkQueue((ns) => this.reconcile(ns));
  }

  start(): void {
    this.store.onChange((key, ev) => {
      const ns = ev.object.metadata.namespace;
      if (!ns || key === 'events') return;
      if (!QUOTA_INPUTS.has(key) && !key.includes('.')) return;
      if (this.store.count('resourcequotas') === 0) return;
      this.queue.add(ns);
    });
    for (const q of this.store.list('resourcequotas')) this.queue.add(q.metadata.namespace ?? '');
  }

  private reconcile(ns: string): void {
    for (const q of [...this.store.list<ResourceQuota>('resourcequotas', ns)]) {
      const hard = q.spec?.hard ?? {};
      const keys = Object.keys(parseResourceList(hard));
      const used = namespaceUsage(this.store, ns, keys);
      const status = {
        hard: { ...hard },
        used: Object.fromEntries(keys.map((k) => [k, formatQuantity(used[k] ?? 0, k)])),
      };
      if (JSON.stringify(status) === JSON.stringify(q.status)) continue;
      this.store.mutate<ResourceQuota>('resourcequotas', ns, q.metadata.name ?? '', (o) => {
        o.status = status;
      });
    }
  }

  close(): void {
    this.queue.close();
  }
}
