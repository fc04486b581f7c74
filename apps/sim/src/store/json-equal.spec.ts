import { describe, expect, it } from '@jest/globals';

import { cloneJson, jsonEqual } from './json-equal.js';

describe('jsonEqual', () => {
  const cases: [string, unknown, unknown][] = [
    [
      'equal nested objects',
      { a: 1, b: { c: [1, 'x', null] } },
      { a: 1, b: { c: [1, 'x', null] } },
    ],
    ['a different leaf', { a: { b: 1 } }, { a: { b: 2 } }],
    ['another key order', { a: 1, b: 2 }, { b: 2, a: 1 }],
    ['an undefined property and an absent one', { a: 1, b: undefined }, { a: 1 }],
    ['a missing key', { a: 1, b: 2 }, { a: 1 }],
    ['an extra key on the right', { a: 1 }, { a: 1, c: 3 }],
    ['arrays of other lengths', [1, 2], [1, 2, 3]],
    ['an array and an object', [1], { 0: 1 }],
    ['undefined in an array and null', [undefined], [null]],
    ['null and an object', null, {}],
    ['a number and its string', 1, '1'],
    ['equal dates', new Date(0), new Date(0)],
    ['a date and its ISO string', { t: new Date(0) }, { t: new Date(0).toISOString() }],
  ];

  it.each(cases)('agrees with comparing JSON text, key order aside: %s', (_label, a, b) => {
    const sorted = (v: unknown): unknown =>
      JSON.parse(JSON.stringify(v), (_k, value: unknown) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y)))
          : value,
      );
    const expected = JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });
});

describe('cloneJson', () => {
  it('copies every level: the copy is equal and changing it leaves the original alone', () => {
    const original = {
      metadata: { name: 'p', labels: { a: '1' }, finalizers: ['f'] },
      spec: { containers: [{ name: 'main', command: ['sh', '-c', 'true'], env: [] }] },
      status: { phase: 'Running', ready: true, restarts: 0, startedAt: null },
    };
    const copy = cloneJson(original);
    expect(copy).toEqual(original);
    copy.metadata.labels.a = '2';
    copy.metadata.finalizers.push('g');
    copy.spec.containers[0]!.command[2] = 'false';
    expect(original.metadata.labels.a).toBe('1');
    expect(original.metadata.finalizers).toEqual(['f']);
    expect(original.spec.containers[0]!.command).toEqual(['sh', '-c', 'true']);
  });

  it('copies a Date as a Date, not as the same object', () => {
    const original = { at: new Date(0) };
    const copy = cloneJson(original);
    // (structuredClone makes it in Node's own realm, not the test's: checked by its tag.)
    expect(Object.prototype.toString.call(copy.at)).toBe('[object Date]');
    expect(copy.at).not.toBe(original.at);
    expect(copy.at.getTime()).toBe(0);
  });

  it('keeps a "__proto__" key of parsed JSON as data, not as the prototype', () => {
    const parsed = JSON.parse('{"data":{"__proto__":{"uid":"forged"},"a":"b"}}') as {
      data: Record<string, unknown>;
    };
    const copy = cloneJson(parsed);
    expect(Object.getPrototypeOf(copy.data)).toBe(Object.prototype);
    expect((copy.data as { uid?: string }).uid).toBeUndefined();
    expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed));
  });

  it('returns scalars as they are', () => {
    for (const value of [null, 1, 'x', true, undefined]) expect(cloneJson(value)).toBe(value);
  });
});
