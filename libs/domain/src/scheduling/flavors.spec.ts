import { describe, expect, it } from '@jest/globals';

import { decide, type AdmissionDecision, type WaitReason } from './admission.js';
import type { Snapshot } from './snapshot.js';
import { job, node, snapshot, tenant } from './testing.js';

const placed = (d: AdmissionDecision) => d.admitted.map((a) => [a.jobId, a.node]);
const waitingFor = (d: AdmissionDecision, id: string) => {
  const w = d.waiting.find((x) => x.jobId === id);
  if (!w) throw new Error(`${id} is not waiting`);
  return w;
};

/** One pool per flavor, named so that first-fit by name would pick the wrong one first. */
const pools = [
  node('a-l4-spot').accelerator('nvidia-l4').spot(),
  node('b-l4').accelerator('nvidia-l4'),
  node('c-h100-spot').accelerator('nvidia-h100-80gb').spot(),
  node('d-h100').accelerator('nvidia-h100-80gb'),
  node('e-cpu'),
];

describe('decide: flavors place a job only on nodes of its accelerator type and capacity', () => {
  it.each<[string, ReturnType<typeof job>, string]>([
    ['no flavor: first-fit by name', job('j').gpu(1), 'a-l4-spot'],
    ['a GPU type', job('j').gpu(1).gpuType('nvidia-h100-80gb'), 'c-h100-spot'],
    ['on-demand capacity', job('j').gpu(1).capacity('on-demand'), 'b-l4'],
    ['spot capacity', job('j').gpu(1).capacity('spot'), 'a-l4-spot'],
    ['any capacity', job('j').gpu(1).capacity('any'), 'a-l4-spot'],
    [
      'a type on on-demand capacity',
      job('j').gpu(1).gpuType('nvidia-h100-80gb').capacity('on-demand'),
      'd-h100',
    ],
  ])('%s', (_name, j, expected) => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(j)
        .nodes(...pools)
        .obj(),
    );
    expect(placed(d)).toEqual([['j', expected]]);
  });

  it('a CPU job asking for on-demand capacity skips spot CPU nodes', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').capacity('on-demand'))
        .nodes(node('a-spot').spot(), node('b-cpu'))
        .obj(),
    );
    expect(placed(d)).toEqual([['j', 'b-cpu']]);
  });

  it('skips full nodes of its flavor and never spills onto another flavor', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('first').gpu(8).gpuType('nvidia-h100-80gb').capacity('on-demand').at(0),
          job('second').gpu(8).gpuType('nvidia-h100-80gb').capacity('on-demand').at(1),
        )
        .nodes(...pools)
        .at(2)
        .obj(),
    );
    expect(placed(d)).toEqual([['first', 'd-h100']]);
    expect(waitingFor(d, 'second')).toMatchObject({
      reason: 'InsufficientCapacity',
      blocker: { best: { node: 'd-h100' } },
    });
  });

  it.each<[string, Snapshot, RegExp]>([
    [
      'no node of the type',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').gpu(1).gpuType('nvidia-a100-80gb'))
        .nodes(...pools)
        .obj(),
      /no node matches the job's GPU type nvidia-a100-80gb, node selector and tolerations/,
    ],
    [
      'no spot node',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').gpu(1).capacity('spot'))
        .nodes(node('b-l4').accelerator('nvidia-l4'))
        .obj(),
      /no node matches the job's spot capacity, node selector and tolerations/,
    ],
    [
      'more GPUs of the type than the tenant may ever hold',
      snapshot()
        .tenants(tenant('a').gpuQuota('nvidia-h100-80gb', 4))
        .jobs(job('j').gpu(8).gpuType('nvidia-h100-80gb'))
        .nodes(...pools)
        .obj(),
      /requests 8 GPUs of type nvidia-h100-80gb but the tenant's whole nvidia-h100-80gb quota is 4 GPUs/,
    ],
  ])('Unschedulable: %s', (_name, snap, message) => {
    const d = decide(snap);
    expect(d.admitted).toEqual([]);
    expect(waitingFor(d, 'j')).toMatchObject({
      reason: 'Unschedulable' satisfies WaitReason,
      message: expect.stringMatching(message),
    });
  });
});

describe('decide: quota per accelerator type', () => {
  it('holds a type at its quota and lets the same tenant run another type', () => {
    const d = decide(
      snapshot()
        .tenants(
          tenant('a')
            .gpuQuota('nvidia-h100-80gb', 8)
            .gpuQuota('nvidia-l4', 16)
            .running(1, { gpu: 6 })
            .runningGpus('nvidia-h100-80gb', 6),
        )
        .jobs(
          job('h100').gpu(4).gpuType('nvidia-h100-80gb').at(0),
          job('l4').gpu(4).gpuType('nvidia-l4').at(1),
        )
        .nodes(...pools)
        .at(2)
        .obj(),
    );
    expect(placed(d)).toEqual([['l4', 'a-l4-spot']]);
    expect(waitingFor(d, 'h100')).toMatchObject({
      reason: 'WaitingForQuota',
      blocker: {
        kind: 'quota',
        shortfalls: [
          { resource: 'gpu', used: 6, limit: 8, needed: 4, gpuType: 'nvidia-h100-80gb' },
        ],
      },
      message: expect.stringMatching(
        /nvidia-h100-80gb gpu quota \(6 GPUs in use \+ 4 GPUs requested > 8 GPUs limit\)/,
      ),
    });
  });

  it('counts the jobs admitted earlier in the same cycle', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').gpuQuota('nvidia-l4', 10))
        .jobs(...['l4-1', 'l4-2', 'l4-3'].map((id, i) => job(id).gpu(4).gpuType('nvidia-l4').at(i)))
        .nodes(...pools)
        .at(5)
        .obj(),
    );
    expect(placed(d)).toEqual([
      ['l4-1', 'a-l4-spot'],
      ['l4-2', 'a-l4-spot'],
    ]);
    expect(waitingFor(d, 'l4-3').blocker).toMatchObject({
      shortfalls: [{ used: 8, limit: 10, needed: 4, gpuType: 'nvidia-l4' }],
    });
  });

  it('a type without a quota entry is capped by the total GPU quota alone', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ gpu: 4 }).gpuQuota('nvidia-l4', 1))
        .jobs(job('h100').gpu(4).gpuType('nvidia-h100-80gb'))
        .nodes(...pools)
        .obj(),
    );
    expect(placed(d)).toEqual([['h100', 'c-h100-spot']]);
  });

  it('the total GPU quota still caps all types together', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ gpu: 6 }).gpuQuota('nvidia-l4', 16))
        .jobs(
          job('l4-1').gpu(4).gpuType('nvidia-l4').at(0),
          job('l4-2').gpu(4).gpuType('nvidia-l4').at(1),
        )
        .nodes(...pools)
        .at(2)
        .obj(),
    );
    expect(placed(d)).toEqual([['l4-1', 'a-l4-spot']]);
    expect(waitingFor(d, 'l4-2').blocker).toMatchObject({
      shortfalls: [{ resource: 'gpu', used: 4, limit: 6, needed: 4 }],
    });
  });
});
