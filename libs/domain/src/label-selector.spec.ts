import { describe, expect, it } from '@jest/globals';

import {
  type LabelRequirement,
  LabelSelectorError,
  matchesLabelSelector,
  parseLabelSelector,
} from './label-selector.js';

describe('parseLabelSelector', () => {
  it.each<[string, LabelRequirement[]]>([
    ['', []],
    ['   ', []],
    ['app=web', [{ key: 'app', operator: 'in', values: ['web'] }]],
    ['app==web', [{ key: 'app', operator: 'in', values: ['web'] }]],
    ['app!=web', [{ key: 'app', operator: 'notin', values: ['web'] }]],
    ['app=', [{ key: 'app', operator: 'in', values: [''] }]],
    ['tier in (a,b)', [{ key: 'tier', operator: 'in', values: ['a', 'b'] }]],
    ['tier in ( a , b , a )', [{ key: 'tier', operator: 'in', values: ['a', 'b'] }]],
    ['tier notin (x)', [{ key: 'tier', operator: 'notin', values: ['x'] }]],
    ['gpu', [{ key: 'gpu', operator: 'exists' }]],
    ['!gpu', [{ key: 'gpu', operator: 'doesnotexist' }]],
    ['roam.dev/team=ml', [{ key: 'roam.dev/team', operator: 'in', values: ['ml'] }]],
    [
      'app = web, !canary,tier in (a), zone',
      [
        { key: 'app', operator: 'in', values: ['web'] },
        { key: 'canary', operator: 'doesnotexist' },
        { key: 'tier', operator: 'in', values: ['a'] },
        { key: 'zone', operator: 'exists' },
      ],
    ],
    // A key may be spelled like an operator word.
    ['in=notin', [{ key: 'in', operator: 'in', values: ['notin'] }]],
  ])('parses %j', (selector, expected) => {
    expect(parseLabelSelector(selector)).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['app=web,', /expected a label key but found the end/],
    [',app', /expected a label key but found "," at position 1/],
    ['app web', /expected =, ==, !=, in, notin/],
    ['app in a,b', /expected "\(" after in\/notin/],
    ['app in (a', /expected "," or "\)" in a value set/],
    ['app in ()', /at least one value/],
    ['app=web=x', /expected ","/],
    ['!', /expected a label key after "!"/],
    ['Bad Key!=x', /expected =, ==/],
    ['-bad=x', /"-bad" is not a valid label key/],
    ['app=has space', /expected ","/],
    ['app=-x', /"-x" is not a valid label value/],
    [`app=${'v'.repeat(64)}`, /is not a valid label value/],
  ])('rejects %j', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
  });

  it('rejects a selector longer than 4096 characters', () => {
    expect(() => parseLabelSelector('x'.repeat(5000))).toThrow(/longer than 4096/);
  });
});

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each<[string, boolean]>([
    ['', true],
    ['app=web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    // != and notin also select objects that do not have the key at all.
    ['missing!=x', true],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier in (back,front)', true],
    ['tier notin (back,front)', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,tier=back', false],
    ['app=web,tier=front,!canary', true],
  ])('%j on {app: web, tier: front} is %s', (selector, expected) => {
    expect(matchesLabelSelector(parseLabelSelector(selector), labels)).toBe(expected);
  });
});
