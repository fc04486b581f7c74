import { describe, expect, it } from '@jest/globals';

import { cpuMillis, formatCpu, formatMemory, memoryBytes, QuantityError } from './quantity.js';

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['1', 1000],
    ['1.5', 1500],
    ['0.1', 100],
    [2, 2000],
    ['2500m', 2500],
    ['1e3', 1_000_000],
  ])('cpu %p is %p millicores', (input, millis) => {
    expect(cpuMillis(input)).toBe(millis);
  });

  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['1G', 1e9],
    ['1000', 1000],
    ['1.5Gi', 1.5 * 2 ** 30],
  ])('memory %p is %p bytes', (input, bytes) => {
    expect(memoryBytes(input)).toBe(bytes);
  });

  it.each(['', '1e3m', 'abc', '1.2.3', '-1', '10 Gi', 'Gi', '1x'])('rejects %p', (input) => {
    expect(() => cpuMillis(input)).toThrow(QuantityError);
  });

  it('formats back to canonical strings', () => {
    expect(formatCpu(1500)).toBe('1500m');
    expect(formatCpu(2000)).toBe('2');
    expect(formatMemory(2 * 2 ** 30)).toBe('2Gi');
    expect(formatMemory(1000)).toBe('1000');
  });
});
