import { describe, expect, it } from '@jest/globals';
import { registerBuiltins } from '../api/builtin-types.js';
import { Registry } from '../api/registry.js';
import { ApiError } from '../api/status.js';
import { Store, type StoredEvent } from './store.js';

function store(): Store {
  const registry = new Registry();
  registerBuiltins(registry);
  return new Store(registry);
}

describe('Store', () => {
  it('bumps resourceVersion on every write and rejects a stale one with 409', () => {
    const s = store();
    const a = s.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
    const b = s.update(
      'configmaps',
      { ...structuredClone(a), data: { x: '1' } },
      a.metadata.resourceVersion,
    );
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(() => s.update('configmaps', structuredClone(a), a.metadata.resourceVersion)).toThrow(
      ApiError,
    );
  });

  it('holds an object with finalizers until the last one is removed', () => {
    const s = store();
    s.create('configmaps', { metadata: { name: 'f', namespace: 'ns', finalizers: ['x'] } });
    expect(s.delete('configmaps', 'ns', 'f').gone).toBe(false);
    expect(s.get('configmaps', 'ns', 'f')?.metadata.deletionTimestamp).toBeTruthy();
    s.mutate('configmaps', 'ns', 'f', (o) => void (o.metadata.finalizers = []));
    expect(s.get('configmaps', 'ns', 'f')).toBeUndefined();
  });

  it('replays history for a watch resume and answers 410 once compacted', () => {
    const s = store();
    s.create('configmaps', { metadata: { name: 'before', namespace: 'ns' } });
    const start = s.resourceVersion;
    s.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
    s.create('configmaps', { metadata: { name: 'b', namespace: 'other' } });
    const seen: StoredEvent[] = [];
    const stop = s.watch(
      'configmaps',
      { namespace: 'ns', matches: () => true, send: (e) => seen.push(e) },
      start,
    );
    expect(seen.map((e) => e.object.metadata.name)).toEqual(['a']);
    expect(seen[0]!.line).toContain('"type":"ADDED"');
    stop();
    s.compact();
    expect(() =>
      s.watch('configmaps', { matches: () => true, send: () => undefined }, start),
    ).toThrow('too old resource version');
  });

  it('indexes dependents by owner uid', () => {
    const s = store();
    const owner = s.create('configmaps', { metadata: { name: 'o', namespace: 'ns' } });
    s.create('secrets', {
      metadata: {
        name: 'd',
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: owner.metadata.uid ?? '' },
        ],
      },
    });
    expect(s.dependentsOf(owner.metadata.uid ?? '')).toEqual([
      { key: 'secrets', namespace: 'ns', name: 'd' },
    ]);
  });
});
