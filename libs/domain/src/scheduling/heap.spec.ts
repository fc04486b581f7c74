import { describe, expect, it } from '@jest/globals';

import { MinHeap } from './heap.js';

describe('MinHeap', () => {
  it('pops in order whatever the pushes', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const values = [5, 3, 9, 1, 1, 8, 2, 7, 0, 6, 4];
    for (const v of values) heap.push(v);
    const out: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
    expect(out).toEqual([...values].sort((a, b) => a - b));
    expect(heap.size).toBe(0);
  });
});
