import { describe, expect, it } from '@jest/globals';

import { expectedNodesFromLabels, preflight, topologyChips } from './preflight.js';
import { request, tpuNodes } from './testing.js';

describe('topologyChips', () => {
  it.each([
    ['8x8x8', 512],
    ['2x2x4', 16],
    ['2x4', 8],
    ['4', 4],
    ['', undefined],
    ['2x', undefined],
    ['axb', undefined],
  ])('%s → %s', (topology, chips) => {
    expect(topologyChips(topology)).toBe(chips);
  });
});

describe('expectedNodesFromLabels', () => {
  it('divides the topology chips by the accelerators per node (8x8x8 / 4 = 128)', () => {
    expect(expectedNodesFromLabels(tpuNodes('p', 3, '8x8x8', 4))).toEqual({
      expected: 128,
      topology: '8x8x8',
      perNode: 4,
    });
  });

  it('refuses nodes that disagree, lack labels, or do not divide', () => {
    const mixed = [...tpuNodes('p', 1, '2x2x4'), ...tpuNodes('q', 1, '2x2x2')];
    expect(expectedNodesFromLabels(mixed)).toEqual({ error: expect.stringContaining('disagree') });
    const bare = tpuNodes('p', 1).map((n) => ({ ...n, labels: {} }));
    expect(expectedNodesFromLabels(bare)).toEqual({
      error: expect.stringContaining('gke-tpu-topology'),
    });
    expect(expectedNodesFromLabels(tpuNodes('p', 1, '3x1', 2))).toEqual({
      error: expect.stringContaining('not a whole number'),
    });
    expect(expectedNodesFromLabels([])).toEqual({ error: expect.stringContaining('no nodes') });
  });
});

describe('preflight', () => {
  it('passes when the pool has the nodes its topology needs', () => {
    expect(preflight(request(), tpuNodes('tpu', 4, '2x2x4', 4))).toEqual({
      ok: true,
      checked: true,
      expected: 4,
      found: 4,
      source: 'topology 2x2x4 = 16 chips / 4 per node',
    });
  });

  it('refuses a short pool, saying what it expected and found', () => {
    const result = preflight(request(), tpuNodes('tpu', 3, '2x2x4', 4));
    expect(result).toEqual({
      ok: false,
      expected: 4,
      found: 3,
      message:
        'preflight failed: node pool tpu has 3 nodes, expected 4 (topology 2x2x4 = 16 chips / 4 per node)',
    });
  });

  it('uses an explicit expected count over the labels', () => {
    expect(preflight(request({ expectedNodeCount: 3 }), tpuNodes('tpu', 3)).ok).toBe(true);
    expect(preflight(request({ expectedNodeCount: 5 }), tpuNodes('tpu', 4))).toEqual(
      expect.objectContaining({ ok: false, expected: 5, found: 4 }),
    );
  });

  it('skips the check when not asked for it, even on a short pool', () => {
    expect(preflight(request({ expectedNodeCount: false }), tpuNodes('tpu', 1))).toEqual({
      ok: true,
      checked: false,
      found: 1,
    });
  });

  it('refuses when the count cannot be derived', () => {
    const result = preflight(request(), []);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain('cannot derive');
  });
});
