// Shared plumbing for controllers: a scaled clock, a coalescing work queue and an event
// recorder that writes core/v1 Events the way client-go's recorder does.
import { logError } from '../log.js';
import type { Condition } from '../api/models.js';
import type { KubeObject } from '../api/registry.js';
import { apiVersionOf } from '../api/registry.js';
import type { Store } from '../store/store.js';

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Simulated seconds run `speed` times faster than real ones. */
export class Clock {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(readonly speed: number) {}

  ms(simSeconds: number): number {
    return Math.max(0, (simSeconds * 1000) / this.speed);
  }

  after(simSeconds: number, fn: () => void): () => void {
    if (this.closed) return () => undefined;
    const t = setTimeout(() => {
      this.timers.delete(t);
      try {
        fn();
      } catch (err) {
        logError('timer failed', err);
      }
    }, this.ms(simSeconds));
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** Collects keys and processes each once per turn of the event loop. */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private closed = false;

  constructor(private readonly process: (key: string) => void) {}

  add(key: string): void {
    if (this.closed) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    if (this.closed) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      try {
        this.process(key);
      } catch (err) {
        logError(`reconcile failed: ${key}`, err);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
  }
}

export function nsName(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export class EventRecorder {
  private readonly seen = new Map<string, string>();
  private counter = 0;

  constructor(
    private readonly store: Store,
    private readonly component: string,
  ) {}

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = obj.metadata.namespace || 'default';
    if (!this.store.get('namespaces', undefined, namespace)) return;
    const dedupe = `${obj.metadata.uid}|${reason}|${message}`;
    const existing = this.seen.get(dedupe);
    const now = nowIso();
    if (existing) {
      const updated = this.store.mutate('events', namespace, existing, (ev) => {
        ev.count = Number(ev.count ?? 1) + 1;
        ev.lastTimestamp = now;
      });
      if (updated) return;
    }
    const name = `${obj.metadata.name}.${Date.now().toString(16)}${(this.counter++).toString(16)}`;
    this.store.create('events', {
      metadata: { name, namespace },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion ?? '',
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component,
      reportingInstance: 'sim',
    });
    this.seen.set(dedupe, name);
    if (this.seen.size > 50_000) this.seen.clear();
  }
}

export function ownerRef(
  owner: KubeObject,
  kindApiVersion?: string,
): {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
} {
  return {
    apiVersion: kindApiVersion ?? owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
export function setCondition(
  conditions: Condition[] | undefined,
  cond: Omit<Condition, 'lastTransitionTime'>,
): Condition[] {
  const list = [...(conditions ?? [])];
  const now = nowIso();
  const i = list.findIndex((c) => c.type === cond.type);
  const old = i >= 0 ? list[i] : undefined;
  if (old) {
    if (old.status === cond.status && old.reason === cond.reason && old.message === cond.message)
      return list;
    list[i] = {
      ...old,
      ...cond,
      ...(old.status !== cond.status ? { lastTransitionTime: now } : {}),
    };
  } else {
    list.push({ ...cond, lastTransitionTime: now });
  }
  return list;
}

export { apiVersionOf };
