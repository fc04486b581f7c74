import { describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import type { NodeState } from '@roam/domain';
import { ProblemError } from '@roam/runtime';

import {
  neverRuns,
  requestsOrThrow,
  settleSlices,
  tpuChipsOf,
  withSlicePods,
} from './job-resources.js';

const V5E = { type: 'tpu-v5-lite-podslice', topology: '4x4' };

/** A v5e 4x4 host (4 chips) of `pool`. */
const host = (name: string, pool: string): NodeState => ({
  name,
  pool,
  allocatable: { cpuMillis: 112_000, memoryBytes: 192 * 2 ** 30, gpu: 0, tpu: 4 },
  requested: { cpuMillis: 0, memoryBytes: 0, gpu: 0 },
  schedulable: true,
  ready: true,
  labels: {
    'cloud.google.com/gke-tpu-accelerator': V5E.type,
    'cloud.google.com/gke-tpu-topology': V5E.topology,
    'cloud.google.com/gke-accelerator-count': '4',
    'cloud.google.com/gke-nodepool': pool,
  },
  taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
});
const pools = (...names: string[]) =>
  names.flatMap((pool) => [0, 1, 2, 3].map((i) => host(`${pool}-${i}`, pool)));

const spec = (extra: Record<string, unknown>) =>
  jobSpecSchema.parse({
    image: 'busybox',
    command: ['true'],
    resources: { cpu: '1', memory: '1Gi', tpu: V5E },
    ...extra,
  });

/** The 422's first problem ("path: message"), or null when the spec passes. */
const refusal = (s: ReturnType<typeof spec>, nodes: NodeState[]) => {
  try {
    settleSlices(s, nodes);
    return null;
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    return `${error.status} ${error.message}`;
  }
};

describe('settleSlices: a JobSet of multi-host slices', () => {
  it.each<[string, Record<string, unknown>, string | null]>([
    ['2 slices, parallelism left out', { replicated_jobs: [{ name: 'slice', replicas: 2 }] }, null],
    [
      '2 slices, parallelism = hosts',
      { replicated_jobs: [{ name: 'slice', replicas: 2, parallelism: 4 }] },
      null,
    ],
    [
      'parallelism other than hosts',
      { replicated_jobs: [{ name: 'slice', replicas: 2, parallelism: 8 }] },
      '422 replicated_jobs.0.parallelism: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts and each replica is one slice of one pod per host: leave parallelism out or set it to 4',
    ],
    [
      'completions other than hosts',
      { replicated_jobs: [{ name: 'slice', replicas: 2, parallelism: 4, completions: 5 }] },
      '422 replicated_jobs.0.completions: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts and each replica is one slice of one pod per host: leave completions out or set it to 4',
    ],
    [
      'a replicated job with a slice of its own',
      {
        replicated_jobs: [
          {
            name: 'slice',
            replicas: 2,
            resources: { cpu: '1', memory: '1Gi', tpu: { ...V5E, topology: '2x4' } },
          },
        ],
      },
      "422 replicated_jobs.0.resources.tpu: must be the job's slice (tpu-v5-lite-podslice 4x4) or its resources left out",
    ],
    [
      'more pods than a job may have',
      { replicated_jobs: [{ name: 'slice', replicas: 251 }] },
      '422 replicated_jobs.0.replicas: 251 slices of 4 hosts are 1004 pods; a job may have at most 1000',
    ],
    [
      'an indexed Job',
      { parallelism: 2 },
      '422 resources.tpu: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts and runs as one pod per host; leave out parallelism and completions, or for several slices use one replicated job with replicas = slices',
    ],
  ])('%s', (_name, extra, expected) => {
    expect(refusal(spec(extra), pools('a', 'b'))).toBe(expected);
  });

  it('sets parallelism to the hosts and stores every host’s pod with its chips and the slice count', () => {
    const s = spec({ replicated_jobs: [{ name: 'slice', replicas: 2 }] });
    const nodes = pools('a', 'b');
    const slices = settleSlices(s, nodes);
    expect(slices).toEqual({ slices: 2, hosts: 4, perHost: 4 });
    expect(s.replicated_jobs?.[0]?.parallelism).toBe(4);
    const requests = withSlicePods(s, requestsOrThrow(s), nodes, slices);
    expect(requests.podSets).toEqual([
      { name: 'slice', count: 8, cpuMillis: 1000, memoryBytes: 2 ** 30, gpu: 0, tpu: 4, slices: 2 },
    ]);
    expect(requests.resources.cpuMillis).toBe(8000);
    expect(tpuChipsOf(s, requests.podSets)).toBe(32);
  });

  it('single-host slices in a JobSet are left as they were', () => {
    const s = spec({
      resources: { cpu: '1', memory: '1Gi', tpu: { ...V5E, topology: '2x4' } },
      replicated_jobs: [{ name: 'w', replicas: 2 }],
    });
    expect(settleSlices(s, pools('a'))).toBeUndefined();
    expect(s.replicated_jobs?.[0]?.parallelism).toBeUndefined();
  });

  it.each<[string, string[], number, string | null]>([
    ['2 slices on 2 pools', ['a', 'b'], 2, null],
    [
      '3 slices on 2 pools',
      ['a', 'b'],
      3,
      'needs 3 slices of tpu-v5-lite-podslice 4x4, the cluster has 2',
    ],
    [
      '2 slices on 1 pool',
      ['a'],
      2,
      'needs 2 slices of tpu-v5-lite-podslice 4x4, the cluster has 1',
    ],
  ])('never-fits at submit: %s', (_name, names, replicas, message) => {
    const s = spec({ replicated_jobs: [{ name: 'slice', replicas }] });
    const nodes = pools(...names);
    const requests = withSlicePods(s, requestsOrThrow(s), nodes, settleSlices(s, nodes));
    const limits = { cpuMillis: 1e9, memoryBytes: 1e15, gpu: 0, maxConcurrentJobs: 10 };
    const reasons = neverRuns(
      requests.resources,
      limits,
      nodes,
      'never',
      { tpu: V5E },
      requests.podSets,
    );
    if (message === null) expect(reasons).toEqual([]);
    else expect(reasons.map((r) => r.message)).toEqual([expect.stringContaining(message)]);
  });
});
