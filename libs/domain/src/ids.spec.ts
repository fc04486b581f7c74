import { describe, expect, it } from '@jest/globals';

import { uuidv7, uuidv7Time } from './ids.js';

describe('uuidv7', () => {
  it('is a version 7, RFC variant UUID', () => {
    expect(uuidv7()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('sorts by creation time, even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes its timestamp', () => {
    const now = Date.now() + 10_000;
    expect(uuidv7Time(uuidv7(now)).getTime()).toBe(now);
  });
});
