import { describe, expect, it } from '@jest/globals';

import { KUEUE_PRIORITY_CLASSES, kueuePriorityClass, kueuePriorityClasses } from './priority.js';

describe('kueuePriorityClass', () => {
  it.each([
    [-1000, 'roam-low'],
    [-101, 'roam-low'],
    [-100, 'roam-low'],
    [-1, 'roam-low'],
    [0, 'roam-normal'],
    [99, 'roam-normal'],
    [100, 'roam-high'],
    [1000, 'roam-high'],
  ])('maps priority %i to %s (the nearest class at or below)', (priority, name) => {
    expect(kueuePriorityClass(priority).name).toBe(name);
  });

  it('keeps the classes in ascending order of value, so the nearest-below search holds', () => {
    const values = KUEUE_PRIORITY_CLASSES.map((c) => c.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('kueuePriorityClasses and admin classes', () => {
  const classes = kueuePriorityClasses({ urgent: 500, batch: -50, zero: 0 });

  it('adds one roam-pc-<name> class per admin class, ordered by value, bands first on a tie', () => {
    expect(classes.map((c) => [c.name, c.value])).toEqual([
      ['roam-low', -100],
      ['roam-pc-batch', -50],
      ['roam-normal', 0],
      ['roam-pc-zero', 0],
      ['roam-high', 100],
      ['roam-pc-urgent', 500],
    ]);
  });

  it.each([
    // priority, the class the spec named, the WorkloadPriorityClass
    [500, 'urgent', 'roam-pc-urgent'],
    [-50, 'batch', 'roam-pc-batch'],
    [0, 'zero', 'roam-pc-zero'],
    [0, undefined, 'roam-normal'],
    [600, undefined, 'roam-pc-urgent'],
    [-60, undefined, 'roam-low'],
    [-50, undefined, 'roam-pc-batch'],
    // the named class was deleted, or changed value since submit: the nearest below
    [300, 'gone', 'roam-high'],
    [300, 'urgent', 'roam-high'],
    [-1000, undefined, 'roam-low'],
  ])('priority %i named %s maps to %s', (priority, named, name) => {
    expect(kueuePriorityClass(priority, classes, named).name).toBe(name);
  });
});
