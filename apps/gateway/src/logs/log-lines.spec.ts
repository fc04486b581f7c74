import { describe, expect, it } from '@jest/globals';

import { Tail } from './log-lines.js';

describe('Tail', () => {
  it('holds at most N items however many pass through, and gives the last N in order', () => {
    const tail = new Tail<number>(5);
    let most = 0;
    for (let i = 1; i <= 100_000; i++) {
      tail.push(i);
      most = Math.max(most, tail.length);
    }
    expect(most).toBe(5);
    expect(tail.values()).toEqual([99_996, 99_997, 99_998, 99_999, 100_000]);
  });

  it.each([
    [0, [1, 2, 3], []],
    [3, [1, 2], [1, 2]],
    [3, [1, 2, 3], [1, 2, 3]],
    [3, [1, 2, 3, 4], [2, 3, 4]],
    [1, [1, 2, 3], [3]],
  ])('size %i over %j keeps %j', (size, input, kept) => {
    const tail = new Tail<number>(size);
    for (const item of input) tail.push(item);
    expect(tail.values()).toEqual(kept);
  });
});
