import { describe, expect, it } from '@jest/globals';

import { KUEUE_PRIORITY_CLASSES, kueuePriorityClass } from './priority.js';

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
