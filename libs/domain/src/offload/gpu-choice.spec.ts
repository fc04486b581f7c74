import { describe, expect, it } from '@jest/globals';

import { chooseGpu, type GpuOfferView } from './gpu-choice.js';
import { costMicros, offloadTriggers } from './triggers.js';

const offer = (
  id: string,
  memoryInGb: number,
  price: number | null,
  stock: Record<string, number> = { 'EU-1': 8 },
): GpuOfferView => ({
  id,
  memoryInGb,
  pricePerGpuHour: price,
  dataCenters: Object.entries(stock).map(([dc, available]) => ({ id: dc, available })),
});

const catalog = [
  offer('A4000', 16, 0.25),
  offer('3090', 24, 0.43),
  offer('A6000', 48, 0.49),
  offer('A100', 80, 1.64),
];

describe('chooseGpu', () => {
  it.each([
    [
      'the cheapest type when anything fits',
      { gpuCount: 1, minMemoryGb: 0 },
      { maxPricePerHour: 0.5 },
      'A4000',
    ],
    [
      'the cheapest type with enough memory',
      { gpuCount: 1, minMemoryGb: 20 },
      { maxPricePerHour: 0.5 },
      '3090',
    ],
    [
      'more memory when that is what fits the cap',
      { gpuCount: 1, minMemoryGb: 40 },
      { maxPricePerHour: 0.5 },
      'A6000',
    ],
    [
      'an allowed type only',
      { gpuCount: 1, minMemoryGb: 0 },
      { maxPricePerHour: 2, allowGpuTypes: ['A100'] },
      'A100',
    ],
    [
      'not a denied type',
      { gpuCount: 1, minMemoryGb: 0 },
      { maxPricePerHour: 2, denyGpuTypes: ['A4000'] },
      '3090',
    ],
    [
      'a price for all the GPUs under the cap',
      { gpuCount: 2, minMemoryGb: 0 },
      { maxPricePerHour: 0.6 },
      'A4000',
    ],
  ])('picks %s', (_name, request, policy, expected) => {
    const choice = chooseGpu(catalog, request, policy);
    expect(choice).toMatchObject({ ok: true, gpuTypeId: expected });
  });

  it('says why nothing fits under the price cap', () => {
    const choice = chooseGpu(catalog, { gpuCount: 1, minMemoryGb: 70 }, { maxPricePerHour: 0.5 });
    expect(choice.ok).toBe(false);
    expect(choice.why).toContain('over the price cap');
  });

  it('skips types out of stock and data centres denied', () => {
    const offers = [offer('cheap', 24, 0.1, { 'EU-1': 0, 'US-1': 8 }), offer('dear', 24, 0.3)];
    expect(
      chooseGpu(offers, { gpuCount: 1, minMemoryGb: 0 }, { maxPricePerHour: 1 }),
    ).toMatchObject({
      gpuTypeId: 'cheap',
      dataCenterIds: ['US-1'],
    });
    expect(
      chooseGpu(
        offers,
        { gpuCount: 1, minMemoryGb: 0 },
        { maxPricePerHour: 1, denyDataCenters: ['US-1'] },
      ),
    ).toMatchObject({ gpuTypeId: 'dear', dataCenterIds: ['EU-1'] });
  });

  it('names the fallbacks cheapest first and the reason', () => {
    const choice = chooseGpu(catalog, { gpuCount: 1, minMemoryGb: 0 }, { maxPricePerHour: 1 });
    expect(choice).toMatchObject({ ok: true, fallbacks: ['3090', 'A6000'] });
    expect(choice.why).toContain('cheapest of 3');
  });
});

describe('offloadTriggers', () => {
  const now = new Date('2025-01-01T00:10:00Z');
  const at = (s: number) => new Date(now.getTime() - s * 1000);
  it('offloads forced jobs at once, old ones after max pending time, all when crowded', () => {
    const policy = { maxPendingMs: 60_000, pendingThreshold: 5 };
    expect(
      offloadTriggers(
        [
          { key: 'new', forced: false, pendingSince: at(1) },
          { key: 'forced', forced: true, pendingSince: at(0) },
          { key: 'old', forced: false, pendingSince: at(120) },
        ],
        policy,
        now,
      ).map((t) => t.key),
    ).toEqual(['old', 'forced']);
    expect(
      offloadTriggers(
        [
          { key: 'a', forced: false, pendingSince: at(1) },
          { key: 'b', forced: false, pendingSince: at(2) },
        ],
        { maxPendingMs: 60_000, pendingThreshold: 1 },
        now,
      ).map((t) => t.key),
    ).toEqual(['b', 'a']);
  });
});

describe('costMicros', () => {
  it('is price × runtime, rounded up', () => {
    expect(costMicros(360_000n, new Date(0), new Date(3_600_000))).toBe(360_000n);
    expect(costMicros(3_600_000n, new Date(0), new Date(1))).toBe(1n);
  });
});
