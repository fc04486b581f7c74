import { describe, expect, it } from '@jest/globals';
import { parseQuantity } from './quantity.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';

describe('label selectors', () => {
  it.each([
    ['app=web', { app: 'web' }, true],
    ['app==web,tier!=db', { app: 'web', tier: 'db' }, false],
    ['env in (a, b)', { env: 'b' }, true],
    ['env notin (a,b)', { env: 'c' }, true],
    ['gpu', {}, false],
    ['!gpu', {}, true],
  ])('%s on %j → %s', (sel, labels, want) => {
    expect(parseLabelSelector(sel)(labels as Record<string, string>)).toBe(want);
  });

  it('rejects nonsense', () => {
    expect(() => parseLabelSelector('a b c')).toThrow();
  });
});

describe('field selectors', () => {
  it('matches dotted paths and refuses unsupported fields', () => {
    const m = parseFieldSelector(
      'status.phase!=Running,spec.nodeName=n1',
      new Set(['status.phase', 'spec.nodeName']),
    );
    expect(m({ status: { phase: 'Pending' }, spec: { nodeName: 'n1' } })).toBe(true);
    expect(m({ status: { phase: 'Running' }, spec: { nodeName: 'n1' } })).toBe(false);
    expect(() => parseFieldSelector('spec.secret=x', new Set(['status.phase']))).toThrow(
      'field label not supported',
    );
  });
});

describe('quantities', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1Gi', 2 ** 30],
    ['1e3', 1000],
    ['1.5G', 1.5e9],
    ['x', undefined],
  ])('%s', (q, want) => {
    expect(parseQuantity(q)).toBe(want);
  });
});
