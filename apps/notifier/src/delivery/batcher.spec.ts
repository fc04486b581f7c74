import { describe, expect, it, jest } from '@jest/globals';

import { Batcher } from './batcher.js';

/** A batcher whose writes are recorded and held until the test ends them (`ends[i]()`). */
function held(max?: number, concurrency?: number, stallMs?: number, lingerMs?: number) {
  const writes: number[][] = [];
  const ends: (() => void)[] = [];
  const batcher = new Batcher<number>(
    (items) => {
      writes.push(items);
      return new Promise<void>((resolve) => ends.push(resolve));
    },
    { max, concurrency, stallMs, lingerMs },
  );
  return { batcher, writes, ends };
}

/** Lets `n` turns of the event loop pass (a write ending schedules the next for a later turn). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

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
    const batcher = new Batcher<number>(
      (items) => {
        writes.push(items);
        return Promise.resolve();
      },
      { max: 2 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(writes).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('holds what arrives during a write for one batch after it, one write at a time', async () => {
    const { batcher, writes, ends } = held();
    const first = batcher.add(1);
    await turns(1);
    expect(writes).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => batcher.add(n));
    await turns(2);
    expect(writes).toEqual([[1]]);
    ends[0]!();
    await first;
    await turns(2);
    expect(writes).toEqual([[1], [2, 3, 4]]);
    ends[1]!();
    await Promise.all(rest);
  });

  it('runs up to `concurrency` writes at once', async () => {
    const { batcher, writes, ends } = held(1, 2);
    const adds = [1, 2, 3].map((n) => batcher.add(n));
    expect(writes).toEqual([[1], [2]]);
    ends[0]!();
    await adds[0];
    await turns(2);
    expect(writes).toEqual([[1], [2], [3]]);
    ends[1]!();
    ends[2]!();
    await Promise.all(adds);
  });

  it('lets the next batch go when a write stalls, and still settles the stalled one', async () => {
    const { batcher, writes, ends } = held(200, 1, 0);
    const stuck = batcher.add(1);
    await turns(1);
    expect(writes).toEqual([[1]]);
    const next = batcher.add(2);
    while (writes.length < 2) await turns(1);
    expect(writes).toEqual([[1], [2]]);
    ends[1]!();
    await next;
    ends[0]!();
    await stuck;
  });

  it('with a linger, holds what arrives within it for one write, and writes at `max` at once', async () => {
    jest.useFakeTimers();
    try {
      const writes: number[][] = [];
      const batcher = new Batcher<number>(
        (items) => {
          writes.push(items);
          return Promise.resolve();
        },
        { max: 3, lingerMs: 50 },
      );
      const first = [batcher.add(1)];
      jest.advanceTimersByTime(49);
      first.push(batcher.add(2));
      expect(writes).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(writes).toEqual([[1, 2]]);
      await Promise.all(first);
      // A full batch does not wait for the linger.
      const full = [3, 4, 5].map((n) => batcher.add(n));
      expect(writes).toEqual([
        [1, 2],
        [3, 4, 5],
      ]);
      await Promise.all(full);
    } finally {
      jest.useRealTimers();
    }
  });

  it('with a linger, writes at once what has waited through a write for longer', async () => {
    jest.useFakeTimers();
    try {
      const { batcher, writes, ends } = held(200, 1, 5000, 50);
      const first = batcher.add(1);
      jest.advanceTimersByTime(50);
      expect(writes).toEqual([[1]]);
      const second = batcher.add(2);
      // The first write takes 80 ms: the second item has waited longer than the linger.
      jest.advanceTimersByTime(80);
      ends[0]!();
      await first;
      await jest.advanceTimersByTimeAsync(0);
      expect(writes).toEqual([[1], [2]]);
      ends[1]!();
      await second;
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts items as pending until their write settles, and says when none are', async () => {
    const { batcher, writes, ends } = held();
    const adds = [batcher.add(1), batcher.add(2)];
    expect(batcher.pending).toBe(2);
    let settled = false;
    const whenSettled = batcher.settled().then(() => (settled = true));
    await turns(1);
    expect(writes).toEqual([[1, 2]]);
    expect(batcher.pending).toBe(2);
    expect(settled).toBe(false);
    ends[0]!();
    await Promise.all(adds);
    await whenSettled;
    expect(batcher.pending).toBe(0);
    await batcher.settled();
  });

  it('rejects the adds of a write that throws instead of returning a promise', async () => {
    const batcher = new Batcher<number>(() => {
      throw new Error('bad input');
    });
    await expect(batcher.add(1)).rejects.toThrow('bad input');
    await expect(batcher.add(2)).rejects.toThrow('bad input');
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
