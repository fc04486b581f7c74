import { describe, expect, it } from '@jest/globals';

import { fairSharePosition, type ShareHolder } from './fair-share.js';

const total = { cpuMillis: 10_000, memoryBytes: 10 * 2 ** 30, gpu: 0 };
const holder = (tenantId: string, cpuMillis: number, waiting: number, weight = 1): ShareHolder => ({
  tenantId,
  used: { cpuMillis, memoryBytes: 0, gpu: 0 },
  weight,
  waiting,
});

describe('fairSharePosition', () => {
  it('ranks the tenants with waiting jobs by weighted dominant share, lowest first', () => {
    const holders = [holder('a', 5_000, 1), holder('b', 1_000, 3), holder('c', 0, 0)];
    expect(fairSharePosition('a', holders, total)).toEqual({
      share: 0.5,
      position: 2,
      competing: 2,
    });
    expect(fairSharePosition('b', holders, total)).toMatchObject({ position: 1, share: 0.1 });
  });

  it('divides the share by the weight', () => {
    const holders = [holder('a', 4_000, 1, 4), holder('b', 2_000, 1)];
    expect(fairSharePosition('a', holders, total)).toEqual({
      share: 0.1,
      position: 1,
      competing: 2,
    });
  });

  it('breaks ties by tenant id, as admission does', () => {
    const holders = [holder('b', 0, 1), holder('a', 0, 1)];
    expect(fairSharePosition('b', holders, total).position).toBe(2);
  });

  it('has no position for a tenant with nothing waiting, or unknown', () => {
    const holders = [holder('a', 1_000, 0), holder('b', 0, 2)];
    expect(fairSharePosition('a', holders, total)).toEqual({
      share: 0.1,
      position: null,
      competing: 1,
    });
    expect(fairSharePosition('z', holders, total)).toEqual({
      share: 0,
      position: null,
      competing: 1,
    });
  });
});
