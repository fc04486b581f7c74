import { describe, expect, it } from '@jest/globals';

import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('writes items added in the same turn as one batch, and settles each add with it', async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number>((items) => {
      writes.push(items);
      return Promise.resolve();
    });
    await Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
    await batcher.add(4);
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('writes as soon as `max` items wait', async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number>((items) => {
      writes.push(items);
      return Promise.resolve();
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(writes).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects every add of a batch whose write failed, and goes on with the next', async () => {
    let fail = true;
    const batcher = new Batcher<string>(() =>
      fail ? Promise.reject(new Error('database gone')) : Promise.resolve(),
    );
    const first = [batcher.add('a'), batcher.add('b')];
    for (const add of first) await expect(add).rejects.toThrow('database gone');
    fail = false;
    await expect(batcher.add('c')).resolves.toBeUndefined();
  });
});
