import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import type { Harness } from '../../../test/support/harness.js';
import {
  type FuzzSample,
  type FuzzWorld,
  fuzzSeed,
  PRINCIPALS,
  prepareWorld,
  routeProperty,
  startFuzzHarness,
} from '../../../test/support/route-fuzzer.js';

/**
 * Every documented route, every principal: never a 5xx or a stack trace, a rejection is
 * problem+json and changes nothing, and neither tenant reaches or reads the other's objects.
 * `pnpm bench:fuzz` runs the same property 100,000 times.
 */
describe('fuzzing every route', () => {
  let h: Harness;
  let world: FuzzWorld;

  beforeAll(async () => {
    h = await startFuzzHarness('fuzz');
    world = await prepareWorld(h);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('holds for every route and principal', async () => {
    const samples: FuzzSample[] = [];
    await fc.assert(
      routeProperty(world, (sample) => samples.push(sample)),
      { numRuns: 400, seed: fuzzSeed() },
    );
    // The run reached every principal and a good share of the routes, not just one corner.
    expect(new Set(samples.map((s) => s.principal))).toEqual(new Set(PRINCIPALS));
    const reached = new Set(samples.map((s) => `${s.route.method} ${s.route.path}`));
    expect(reached.size).toBeGreaterThan(world.routes.length / 2);
    expect(samples.some((s) => s.status < 300)).toBe(true);
  });
});
