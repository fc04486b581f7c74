import { describe, expect, it } from '@jest/globals';
import { registerBuiltins } from '../api/builtin-types.js';
import type { KubeObject } from '../api/registry.js';
import { Registry } from '../api/registry.js';
import { Store } from '../store/store.js';
import { namespaceUsage, recomputeNamespaceUsage } from './quota.js';

const KEYS = [
  'pods',
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'requests.storage',
  'persistentvolumeclaims',
  'configmaps',
  'count/configmaps',
  'count/pods',
];
const CPUS = ['10m', '333m', '1.5', '0.1', '7', '1n', '250u'];
const MEMORY = ['16Mi', '1Gi', '100M', '12345'];

/** A deterministic pseudo-random sequence (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pod(name: string, ns: string, pick: <T>(xs: T[]) => T): KubeObject {
  return {
    metadata: { name, namespace: ns, finalizers: pick([[], [], ['f']]) },
    spec: {
      containers: [
        {
          name: 'main',
          resources: {
            requests: { cpu: pick(CPUS), memory: pick(MEMORY) },
            limits: { cpu: pick(CPUS) },
          },
        },
      ],
      initContainers: pick([[], [{ name: 'init', resources: { requests: { cpu: pick(CPUS) } } }]]),
    },
  };
}

describe('namespaceUsage', () => {
  it('keeps the usage a recount over the stored objects gives through random creates, updates and deletes', () => {
    const registry = new Registry();
    registerBuiltins(registry);
    const store = new Store(registry);
    const next = random(42);
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!;
    // `a` is followed from the start; `b` holds objects before it is first asked for.
    expect(namespaceUsage(store, 'a', KEYS).pods).toBe(0);
    const live: Array<{ key: string; ns: string; name: string }> = [];
    for (let i = 0; i < 3000; i += 1) {
      if (i === 1500) namespaceUsage(store, 'b', KEYS);
      const op = next();
      if (op < 0.45 || live.length === 0) {
        const ns = pick(['a', 'b']);
        const name = `o${i}`;
        const kind = pick(['pods', 'pods', 'configmaps', 'persistentvolumeclaims']);
        const obj =
          kind === 'pods'
            ? pod(name, ns, pick)
            : kind === 'configmaps'
              ? { metadata: { name, namespace: ns } }
              : {
                  metadata: { name, namespace: ns },
                  spec: { resources: { requests: { storage: pick(MEMORY) } } },
                };
        store.create(kind, obj);
        live.push({ key: kind, ns, name });
      } else if (op < 0.8) {
        const o = pick(live);
        store.mutate(o.key, o.ns, o.name, (obj) => {
          if (o.key !== 'pods') {
            obj.spec = { resources: { requests: { storage: pick(MEMORY) } } };
            return;
          }
          const p = obj as { status?: { phase?: string }; metadata: KubeObject['metadata'] };
          const r = next();
          if (r < 0.4) p.status = { phase: pick(['Running', 'Succeeded', 'Failed', 'Pending']) };
          else if (r < 0.7) p.metadata.finalizers = [];
          else obj.spec = pod(o.name, o.ns, pick).spec;
        });
        if (!store.get(o.key, o.ns, o.name)) live.splice(live.indexOf(o), 1);
      } else {
        const o = pick(live);
        if (store.delete(o.key, o.ns, o.name).gone) live.splice(live.indexOf(o), 1);
      }
      if (i % 97 === 0 || i === 2999) {
        for (const ns of ['a', 'b']) {
          const kept = namespaceUsage(store, ns, KEYS);
          const recount = recomputeNamespaceUsage(store, registry, ns, KEYS);
          for (const k of KEYS) expect(kept[k]).toBeCloseTo(recount[k]!, 9);
        }
      }
    }
    // Everything gone: exactly nothing left, however many fractions came and went.
    for (const o of [...live]) {
      store.mutate(o.key, o.ns, o.name, (obj) => void (obj.metadata.finalizers = []));
      if (store.get(o.key, o.ns, o.name)) store.delete(o.key, o.ns, o.name);
    }
    for (const ns of ['a', 'b'])
      expect(namespaceUsage(store, ns, KEYS)).toEqual(Object.fromEntries(KEYS.map((k) => [k, 0])));
  });
});
