// In-memory object storage with one global resourceVersion counter, per-type event history
// for watch resume, an owner index for garbage collection and a node index for pods.
// Stored objects are shared with readers: never mutate one, use `mutate` or `update`.
import { logError } from '../log.js';
import { cloneJson, jsonEqual } from './json-equal.js';
import { randomUUID } from 'node:crypto';
import { ApiError, errors } from '../api/status.js';
import {
  apiVersionOf,
  type KubeObject,
  type Registry,
  type ResourceType,
  typeKey,
} from '../api/registry.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class StoredEvent {
  private cachedLine: string | undefined;
  constructor(
    readonly rv: number,
    readonly type: EventType,
    readonly object: KubeObject,
    readonly old: KubeObject | undefined,
  ) {}

  /** The watch line, serialised once however many watchers receive it. */
  get line(): string {
    this.cachedLine ??= `{"type":"${this.type}","object":${JSON.stringify(this.object)}}\n`;
    return this.cachedLine;
  }
}

export interface Watcher {
  namespace?: string;
  /**
   * Names `matches` (e.g. its selector strings): watchers of one type with the same filter
   * share one match per event instead of matching the object each.
   */
  filter?: string;
  matches(obj: KubeObject): boolean;
  /**
   * An event for the watcher: `now` is whether the object matches, `before` whether its old
   * version did (MODIFIED only), as the store found them: the watcher need not match again.
   */
  send(ev: StoredEvent, now: boolean, before: boolean | undefined): void;
}

/**
 * Offers `ev` to `w`: sent when the object matches the watcher now or did before (a replay
 * from history also sends a DELETED whose old version matched).
 */
function offer(w: Watcher, ev: StoredEvent, replay = false): void {
  const [now, before] = judge(w, ev, replay);
  if (now || before) w.send(ev, now, before);
}

type Verdict = readonly [now: boolean, before: boolean | undefined];

function judge(w: Watcher, ev: StoredEvent, replay = false): Verdict {
  const now = w.matches(ev.object);
  const before =
    ev.old !== undefined && (ev.type === 'MODIFIED' || (replay && !now))
      ? w.matches(ev.old)
      : undefined;
  return [now, before];
}

export type StoreListener = (key: string, ev: StoredEvent) => void;

const HISTORY_LIMIT = 20_000;

interface TypeState {
  type: ResourceType;
  byNamespace: Map<string, Map<string, KubeObject>>;
  count: number;
  history: StoredEvent[];
  /** Events at or below this version are gone from history: older watches get 410. */
  compactedRv: number;
  watchers: Set<Watcher>;
}

export interface StoreSnapshot {
  resourceVersion: number;
  objects: Record<string, KubeObject[]>;
}

export class Store {
  private rv = 0;
  private readonly types = new Map<string, TypeState>();
  private readonly listeners: StoreListener[] = [];
  private readonly indexes: StoreListener[] = [];
  /** owner uid → "typeKey\0namespace\0name" of dependents. */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(readonly registry: Registry) {}

  get resourceVersion(): number {
    return this.rv;
  }

  private state(key: string): TypeState {
    let s = this.types.get(key);
    if (!s) {
      s = {
        type: this.registry.get(key),
        byNamespace: new Map(),
        count: 0,
        history: [],
        compactedRv: 0,
        watchers: new Set(),
      };
      this.types.set(key, s);
    }
    return s;
  }

  onChange(listener: StoreListener): void {
    this.listeners.push(listener);
  }

  /**
   * Like `onChange`, but called before every watcher and listener of the change: an index kept
   * from the changes is up to date whatever a listener does next (e.g. an admission reading it).
   */
  addIndex(index: StoreListener): void {
    this.indexes.push(index);
  }

  /** `T` is the caller's typed view of the stored JSON (e.g. Pod for 'pods'). */
  get<T extends KubeObject = KubeObject>(
    key: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    return this.state(key)
      .byNamespace.get(namespace ?? '')
      ?.get(name) as T | undefined;
  }

  /** Throws the apiserver's NotFound. */
  require(key: string, namespace: string | undefined, name: string): KubeObject {
    const obj = this.get(key, namespace, name);
    if (!obj) throw errors.notFound(this.state(key).type, name);
    return obj;
  }

  *list<T extends KubeObject = KubeObject>(key: string, namespace?: string): Iterable<T> {
    const s = this.state(key);
    if (namespace !== undefined) {
      const m = s.byNamespace.get(namespace);
      if (m) yield* m.values() as Iterable<T>;
      return;
    }
    for (const m of s.byNamespace.values()) yield* m.values() as Iterable<T>;
  }

  count(key: string): number {
    return this.state(key).count;
  }

  dependentsOf(uid: string): Array<{ key: string; namespace: string; name: string }> {
    const set = this.dependents.get(uid);
    if (!set) return [];
    return [...set].map((ref) => {
      const [key, namespace, name] = ref.split('\0') as [string, string, string];
      return { key, namespace, name };
    });
  }

  create(key: string, input: KubeObject): KubeObject {
    const s = this.state(key);
    const obj = input;
    const ns = s.type.namespaced ? (obj.metadata.namespace ?? '') : '';
    const name = obj.metadata.name ?? '';
    let bucket = s.byNamespace.get(ns);
    if (bucket?.has(name)) throw errors.alreadyExists(s.type, name);
    if (!bucket) {
      bucket = new Map();
      s.byNamespace.set(ns, bucket);
    }
    obj.apiVersion = apiVersionOf(s.type);
    obj.kind = s.type.kind;
    const meta = obj.metadata;
    if (s.type.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    meta.uid ??= randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    meta.generation = 1;
    meta.resourceVersion = String(++this.rv);
    bucket.set(name, obj);
    s.count += 1;
    this.indexOwners(key, undefined, obj);
    this.emit(key, s, new StoredEvent(this.rv, 'ADDED', obj, undefined));
    return obj;
  }

  /**
   * Replaces an object. `expectedRv` enforces optimistic concurrency (409 on mismatch).
   * An object being deleted disappears once its last finalizer is removed.
   */
  update(key: string, next: KubeObject, expectedRv?: string): KubeObject {
    const s = this.state(key);
    const ns = s.type.namespaced ? (next.metadata.namespace ?? '') : '';
    const name = next.metadata.name ?? '';
    const bucket = s.byNamespace.get(ns);
    const old = bucket?.get(name);
    if (!bucket || !old) throw errors.notFound(s.type, name);
    if (expectedRv && expectedRv !== old.metadata.resourceVersion) {
      throw errors.conflict(
        s.type,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    const meta = next.metadata;
    meta.uid = old.metadata.uid;
    meta.creationTimestamp = old.metadata.creationTimestamp;
    if (s.type.namespaced) meta.namespace = ns;
    if (old.metadata.deletionTimestamp) meta.deletionTimestamp = old.metadata.deletionTimestamp;
    if (!jsonEqual(next.spec, old.spec)) meta.generation = (old.metadata.generation ?? 1) + 1;
    else meta.generation = old.metadata.generation;
    // Removing the last finalizer of an object being deleted completes the deletion.
    if (
      meta.deletionTimestamp &&
      !(meta.finalizers ?? []).length &&
      (old.metadata.finalizers ?? []).length
    ) {
      return this.remove(key, s, old, next);
    }
    meta.resourceVersion = String(++this.rv);
    bucket.set(name, next);
    this.indexOwners(key, old, next);
    this.emit(key, s, new StoredEvent(this.rv, 'MODIFIED', next, old));
    return next;
  }

  /** Clone, change, write back; returns undefined when the object is gone. */
  mutate<T extends KubeObject = KubeObject>(
    key: string,
    namespace: string | undefined,
    name: string,
    fn: (obj: T) => void | false,
  ): T | undefined {
    const cur = this.get<T>(key, namespace, name);
    if (!cur) return undefined;
    const next = cloneJson(cur);
    if (fn(next) === false) return cur;
    if (jsonEqual(next, cur)) return cur;
    return this.update(key, next) as T;
  }

  /**
   * Deletes now, or marks for deletion when finalizers remain. Returns the object as last
   * stored and whether it is gone.
   */
  delete(
    key: string,
    namespace: string | undefined,
    name: string,
    opts: {
      uid?: string;
      rv?: string;
      finalizers?: string[];
      terminate?: (obj: KubeObject) => void;
    } = {},
  ): { object: KubeObject; gone: boolean } {
    const s = this.state(key);
    const obj = this.get(key, s.type.namespaced ? namespace : undefined, name);
    if (!obj) throw errors.notFound(s.type, name);
    if (opts.uid && opts.uid !== obj.metadata.uid) {
      throw errors.conflict(
        s.type,
        name,
        `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    }
    if (opts.rv && opts.rv !== obj.metadata.resourceVersion) {
      throw errors.conflict(
        s.type,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    for (const f of opts.finalizers ?? []) if (!finalizers.includes(f)) finalizers.push(f);
    if (finalizers.length === 0 && !opts.terminate)
      return { object: this.remove(key, s, obj, obj), gone: true };
    if (obj.metadata.deletionTimestamp) return { object: obj, gone: false };
    const next = cloneJson(obj);
    if (finalizers.length) next.metadata.finalizers = finalizers;
    opts.terminate?.(next);
    next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    next.metadata.deletionGracePeriodSeconds = 0;
    return { object: this.update(key, next), gone: false };
  }

  private remove(key: string, s: TypeState, old: KubeObject, last: KubeObject): KubeObject {
    const ns = old.metadata.namespace ?? '';
    const bucket = s.byNamespace.get(ns);
    bucket?.delete(old.metadata.name ?? '');
    if (bucket && bucket.size === 0) s.byNamespace.delete(ns);
    s.count -= 1;
    last.metadata.resourceVersion = String(++this.rv);
    this.indexOwners(key, old, undefined);
    this.emit(key, s, new StoredEvent(this.rv, 'DELETED', last, old));
    return last;
  }

  private indexOwners(
    key: string,
    old: KubeObject | undefined,
    next: KubeObject | undefined,
  ): void {
    const ref = (o: KubeObject) => `${key}\0${o.metadata.namespace ?? ''}\0${o.metadata.name}`;
    const oldOwners = old?.metadata.ownerReferences ?? [];
    const newOwners = next?.metadata.ownerReferences ?? [];
    if (oldOwners.length === 0 && newOwners.length === 0) return;
    for (const o of oldOwners) {
      const set = this.dependents.get(o.uid);
      set?.delete(ref(old!));
      if (set && set.size === 0) this.dependents.delete(o.uid);
    }
    for (const o of newOwners) {
      let set = this.dependents.get(o.uid);
      if (!set) this.dependents.set(o.uid, (set = new Set()));
      set.add(ref(next!));
    }
  }

  private emit(key: string, s: TypeState, ev: StoredEvent): void {
    s.history.push(ev);
    if (s.history.length > HISTORY_LIMIT) {
      const dropped = s.history.splice(0, HISTORY_LIMIT / 4);
      s.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const index of this.indexes) {
      try {
        index(key, ev);
      } catch (err) {
        logError('store index failed', err);
      }
    }
    const ns = ev.object.metadata.namespace;
    let verdicts: Map<string, Verdict> | undefined;
    for (const w of s.watchers) {
      if (w.namespace !== undefined && w.namespace !== ns) continue;
      if (w.filter === undefined) {
        offer(w, ev);
        continue;
      }
      verdicts ??= new Map();
      let verdict = verdicts.get(w.filter);
      if (!verdict) verdicts.set(w.filter, (verdict = judge(w, ev)));
      if (verdict[0] || verdict[1]) w.send(ev, verdict[0], verdict[1]);
    }
    for (const l of this.listeners) {
      try {
        l(key, ev);
      } catch (err) {
        logError('store listener failed', err);
      }
    }
  }

  /**
   * Registers a watcher and replays history after `fromRv` (0 = current objects as ADDED).
   * Throws 410 Expired when `fromRv` is older than the retained history.
   */
  watch(key: string, w: Watcher, fromRv: number | undefined): () => void {
    const s = this.state(key);
    if (fromRv === undefined || fromRv === 0) {
      for (const obj of this.list(key, w.namespace)) {
        if (w.matches(obj))
          w.send(
            new StoredEvent(Number(obj.metadata.resourceVersion), 'ADDED', obj, undefined),
            true,
            undefined,
          );
      }
    } else {
      if (fromRv < s.compactedRv) {
        throw new ApiError(
          410,
          'Expired',
          `too old resource version: ${fromRv} (${s.compactedRv + 1})`,
        );
      }
      for (const ev of this.historyAfter(s, fromRv)) {
        if (w.namespace !== undefined && w.namespace !== ev.object.metadata.namespace) continue;
        offer(w, ev, true);
      }
    }
    s.watchers.add(w);
    return () => s.watchers.delete(w);
  }

  private *historyAfter(s: TypeState, rv: number): Iterable<StoredEvent> {
    // History is ordered by rv, so binary-search the first newer event.
    let lo = 0;
    let hi = s.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < s.history.length; i += 1) yield s.history[i]!;
  }

  /** Forces old versions out of history; lets tests exercise 410 Gone. */
  compact(): void {
    for (const s of this.types.values()) {
      s.history = [];
      s.compactedRv = this.rv;
    }
  }

  snapshot(): StoreSnapshot {
    const objects: Record<string, KubeObject[]> = {};
    for (const [key] of this.types) objects[key] = [...this.list(key)];
    return { resourceVersion: this.rv, objects };
  }

  /** Loads a snapshot into an empty store without emitting events. */
  restore(snap: StoreSnapshot): void {
    for (const [key, objs] of Object.entries(snap.objects)) {
      if (!this.registry.all().some((t) => typeKey(t) === key)) continue;
      const s = this.state(key);
      for (const obj of objs) {
        const ns = obj.metadata.namespace ?? '';
        let bucket = s.byNamespace.get(ns);
        if (!bucket) s.byNamespace.set(ns, (bucket = new Map<string, KubeObject>()));
        if (!bucket.has(obj.metadata.name ?? '')) s.count += 1;
        bucket.set(obj.metadata.name ?? '', obj);
        this.indexOwners(key, undefined, obj);
      }
      s.compactedRv = snap.resourceVersion;
    }
    this.rv = Math.max(this.rv, snap.resourceVersion);
  }
}
