import { describe, expect, it } from '@jest/globals';

import { jobSpecSchema } from './job-spec.js';
import {
  completionsOf,
  MAX_COMPLETIONS_PER_JOB,
  multiPodProblems,
  resultSlotsOf,
} from './multi-pod.js';

const spec = (fields: Record<string, unknown>) =>
  jobSpecSchema.parse({ image: 'busybox', command: ['true'], ...fields });

describe('resultSlotsOf', () => {
  it('is undefined for a single-pod job, whose results keep their plain paths', () => {
    expect(resultSlotsOf(spec({}))).toBeUndefined();
  });

  it("gives an indexed job's pods their completion index as prefix", () => {
    expect(resultSlotsOf(spec({ parallelism: 2, completions: 3 }))).toEqual([
      { slot: 'main/0/0', prefix: '0/' },
      { slot: 'main/0/1', prefix: '1/' },
      { slot: 'main/0/2', prefix: '2/' },
    ]);
  });

  it("gives a JobSet's pods their replica, and their completion index when a child Job has several", () => {
    expect(
      resultSlotsOf(
        spec({
          replicated_jobs: [
            { name: 'driver', replicas: 1 },
            { name: 'worker', replicas: 2, parallelism: 2 },
          ],
        }),
      ),
    ).toEqual([
      { slot: 'driver/0/0', prefix: 'driver-0/' },
      { slot: 'worker/0/0', prefix: 'worker-0/0/' },
      { slot: 'worker/0/1', prefix: 'worker-0/1/' },
      { slot: 'worker/1/0', prefix: 'worker-1/0/' },
      { slot: 'worker/1/1', prefix: 'worker-1/1/' },
    ]);
  });
});

describe('multiPodProblems: pods over the whole life', () => {
  it('refuses more than MAX_COMPLETIONS_PER_JOB completions, counted without listing them', () => {
    const big = spec({
      replicated_jobs: Array.from({ length: 16 }, (_, i) => ({
        name: `g${i}`,
        replicas: 50,
        completions: 1000,
      })),
    });
    expect(completionsOf(big)).toBe(800_000);
    expect(multiPodProblems(big)).toContainEqual({
      path: 'replicated_jobs',
      message: `asks for 800000 pods all told; a job may run at most ${MAX_COMPLETIONS_PER_JOB}`,
    });
    expect(
      multiPodProblems(spec({ replicated_jobs: [{ name: 'w', replicas: 10, completions: 1000 }] })),
    ).toEqual([]);
  });
});
