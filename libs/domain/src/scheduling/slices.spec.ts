import { describe, expect, it } from '@jest/globals';

import { decide, type AdmissionDecision, type WaitReason } from './admission.js';
import { gangNeverFits } from './gang.js';
import { withAssumed } from './nodes.js';
import { job, node, snapshot, tenant } from './testing.js';
import { slicePoolCount, slicesNeverFit, withTpuRequest } from './tpu.js';

/*
 * TPU slices and node pools (docs/scheduling.md#flavors): all hosts of one multi-host slice go
 * on nodes of ONE pool, every slice of a job on a pool of its own, all or nothing.
 */

const V5E = 'tpu-v5-lite-podslice';

/** A v5e 4x4 slice's host (4 chips) in `pool`. */
const host = (name: string, pool: string) => node(name).tpuHost(V5E, '4x4', 4).pool(pool);

/** A whole 4-host pool; `busy` hosts (by index) have their chips taken. */
const pool = (name: string, busy: number[] = []) =>
  [0, 1, 2, 3].map((i) => {
    const h = host(`${name}-${i}`, name);
    return busy.includes(i) ? h.tpuInUse(4) : h;
  });

/** One job of `slices` v5e 4x4 slices, as the gateway stores it: slices × 4 host pods. */
const slices = (id: string, n: number, at = 0) =>
  job(id)
    .tpu(V5E, '4x4')
    .pods('slice', 4 * n, { cpu: 1 })
    .slices(n)
    .at(at);

/** A single-slice job as the gateway stores it (one pod per host, no slice count stored). */
const oneSlice = (id: string, at = 0) =>
  job(id).tpu(V5E, '4x4').pods('slice', 4, { cpu: 1 }).at(at);

const nodesOf = (d: AdmissionDecision, id: string) =>
  (d.admitted.find((a) => a.jobId === id)?.placements ?? []).flatMap((p) =>
    Array.from({ length: p.count }, () => p.node),
  );

describe('withTpuRequest: slices stored as their hosts’ pods', () => {
  it('keeps the slice count; each pod asks for one host’s chips', () => {
    const nodes = [...pool('a'), ...pool('b')].map((n) => n.obj());
    const j = withTpuRequest(slices('j', 2).obj(), nodes);
    expect(j.podSets).toEqual([
      {
        name: 'slice',
        count: 8,
        resources: { cpuMillis: 1000, memoryBytes: 0, gpu: 0, tpu: 4 },
        slices: 2,
      },
    ]);
  });

  it('a single multi-host slice is one slice', () => {
    const nodes = pool('a').map((n) => n.obj());
    expect(withTpuRequest(oneSlice('j').obj(), nodes).podSets?.[0]?.slices).toBe(1);
  });
});

describe('decide: each slice on one pool, different slices on different pools', () => {
  it.each<
    [string, ReturnType<typeof job>[], ReturnType<typeof node>[], string[] | WaitReason, string[]?]
  >([
    [
      'one slice, first pool has a busy host: the whole slice on the second pool, never split',
      [oneSlice('j')],
      [...pool('a', [1]), ...pool('b')],
      ['b-0', 'b-1', 'b-2', 'b-3'],
      ['b'],
    ],
    [
      'two slices, two free pools: one slice on each',
      [slices('j', 2)],
      [...pool('a'), ...pool('b')],
      ['a-0', 'a-1', 'a-2', 'a-3', 'b-0', 'b-1', 'b-2', 'b-3'],
      ['a', 'b'],
    ],
    [
      'two slices, pools whose hosts interleave by name: grouped by pool, not by name',
      [slices('j', 2)],
      [0, 1, 2, 3].flatMap((i) => [host(`h-${2 * i}`, 'x'), host(`h-${2 * i + 1}`, 'y')]),
      ['h-0', 'h-2', 'h-4', 'h-6', 'h-1', 'h-3', 'h-5', 'h-7'],
      ['x', 'y'],
    ],
    [
      'two slices, one of two pools has a busy host: waits (all or nothing)',
      [slices('j', 2)],
      [...pool('a'), ...pool('b', [3])],
      'InsufficientCapacity',
    ],
    ['two slices, one pool of that shape: never', [slices('j', 2)], pool('a'), 'Unschedulable'],
    [
      'two slices on three pools, the first busy: the two free ones',
      [slices('j', 2)],
      [...pool('a', [0]), ...pool('b'), ...pool('c')],
      ['b-0', 'b-1', 'b-2', 'b-3', 'c-0', 'c-1', 'c-2', 'c-3'],
      ['b', 'c'],
    ],
  ])('%s', (...[, jobs, nodes, expected, pools]) => {
    // (A rest parameter: rows without pools must not read as a `done` callback.)
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(...jobs)
        .nodes(...nodes)
        .obj(),
    );
    if (typeof expected === 'string') {
      expect(d.admitted).toEqual([]);
      expect(d.waiting.find((w) => w.jobId === 'j')?.reason).toBe(expected);
      return;
    }
    expect(nodesOf(d, 'j')).toEqual(expected);
    expect(d.admitted.find((a) => a.jobId === 'j')?.slicePools).toEqual(pools);
  });

  it('a two-slice job that does not fit takes nothing: a one-slice job behind it gets the free pool', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(slices('big', 2, 0), oneSlice('small', 1))
        .nodes(...pool('a'), ...pool('b', [2]))
        .at(2)
        .obj(),
    );
    expect(d.admitted.map((a) => a.jobId)).toEqual(['small']);
    expect(nodesOf(d, 'small')).toEqual(['a-0', 'a-1', 'a-2', 'a-3']);
    expect(d.waiting.find((w) => w.jobId === 'big')?.reason).toBe('InsufficientCapacity');
  });

  it('two jobs of one slice each in one cycle go to two pools', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(oneSlice('first', 0), oneSlice('second', 1))
        .nodes(...pool('a'), ...pool('b'))
        .at(2)
        .obj(),
    );
    expect(d.admitted.map((a) => a.slicePools)).toEqual([['a'], ['b']]);
  });

  it('Unschedulable names the pools it lacks', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(slices('j', 2))
        .nodes(...pool('a'))
        .obj(),
    );
    expect(d.waiting.find((w) => w.jobId === 'j')?.message).toMatch(
      /needs 2 slices of tpu-v5-lite-podslice 4x4, the cluster has 1/,
    );
  });
});

describe('slicesNeverFit: fewer pools holding a whole slice than slices', () => {
  const pod = job('p').tpu(V5E, '4x4').cpu(1).obj();
  it.each<[string, ReturnType<typeof node>[], number, number, string | null]>([
    ['2 slices, 2 pools', [...pool('a'), ...pool('b')], 2, 2, null],
    [
      '2 slices, 1 pool',
      pool('a'),
      2,
      1,
      'needs 2 slices of tpu-v5-lite-podslice 4x4, the cluster has 1',
    ],
    ['3 slices, 2 pools', [...pool('a'), ...pool('b')], 3, 2, 'needs 3 slices'],
    [
      'a pool short of a host does not hold a slice',
      [...pool('a'), ...pool('b').slice(0, 3)],
      2,
      1,
      'the cluster has 1',
    ],
    [
      'cordoned hosts count (they come back)',
      [...pool('a'), ...pool('b').map((n) => n.cordoned())],
      2,
      2,
      null,
    ],
    ['no host of the slice at all: left to "no node matches"', [node('cpu')], 2, 0, null],
  ])('%s', (_name, nodes, n, pools, message) => {
    const all = nodes.map((x) => x.obj());
    expect(slicePoolCount(pod, 4, all)).toBe(pools);
    const reasons = slicesNeverFit(pod, { count: 4 * n, slices: n }, all);
    if (message === null) expect(reasons).toEqual([]);
    else expect(reasons[0]?.message).toContain(message);
  });

  it('gangNeverFits says it for a stored multi-slice job', () => {
    const nodes = pool('a').map((n) => n.obj());
    const reasons = gangNeverFits(withTpuRequest(slices('j', 2).obj(), nodes), nodes);
    expect(reasons.map((r) => r.message)).toEqual([
      expect.stringContaining('needs 2 slices of tpu-v5-lite-podslice 4x4, the cluster has 1'),
    ]);
  });
});

describe('withAssumed: an admitted slice not yet bound holds a whole pool', () => {
  it.each<[string, ReturnType<typeof node>[], ReturnType<typeof job>, string[]]>([
    [
      'one slice, first pool has a busy host: held on the second pool, not split',
      [...pool('a', [1]), ...pool('b')],
      oneSlice('in-flight'),
      ['b-0', 'b-1', 'b-2', 'b-3'],
    ],
    [
      'two slices: one pool each',
      [...pool('a'), ...pool('b'), ...pool('c')],
      slices('in-flight', 2),
      ['a-0', 'a-1', 'a-2', 'a-3', 'b-0', 'b-1', 'b-2', 'b-3'],
    ],
    [
      'two slices, one free pool: the slice that fits holds it',
      [...pool('a'), ...pool('b', [0])],
      slices('in-flight', 2),
      ['a-0', 'a-1', 'a-2', 'a-3'],
    ],
  ])('%s', (_name, nodes, inFlight, held) => {
    const all = nodes.map((n) => n.obj());
    const after = withAssumed(all, [inFlight.obj()]);
    const before = new Map(all.map((n) => [n.name, n.requested.tpu ?? 0]));
    const taken = after
      .filter((n) => (n.requested.tpu ?? 0) > (before.get(n.name) ?? 0))
      .map((n) => n.name);
    expect(taken).toEqual(held);
  });

  it('the next cycle admits a second slice job on the pool left', () => {
    const nodes = withAssumed(
      [...pool('a', [1]), ...pool('b'), ...pool('c')].map((n) => n.obj()),
      [oneSlice('in-flight').obj()],
    );
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(oneSlice('j'))
        .nodes(...nodes)
        .obj(),
    );
    expect(d.admitted.map((a) => a.slicePools)).toEqual([['c']]);
  });
});
