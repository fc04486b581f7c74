import { describe, expect, it } from '@jest/globals';

import { expectedNodesFromLabels } from '../failover/preflight.js';
import { decide, type AdmissionDecision, type WaitReason } from './admission.js';
import { withAssumed } from './nodes.js';
import type { Snapshot } from './snapshot.js';
import { job, node, snapshot, tenant } from './testing.js';
import { sliceLayout, withTpuRequest } from './tpu.js';

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

/** v5e hosts of three slice shapes, named so first-fit by name meets the wrong ones first. */
const V5E = 'tpu-v5-lite-podslice';
const tpuPools = [
  node('a-cpu'),
  node('b-v5e-2x2').tpuHost(V5E, '2x2', 4),
  node('c-v5p-2x4').tpuHost('tpu-v5p-slice', '2x4', 4),
  node('d-v5e-2x4').tpuHost(V5E, '2x4', 8),
  ...[0, 1, 2, 3].map((i) => node(`e-v5e-4x4-${i}`).tpuHost(V5E, '4x4', 4)),
];

describe('sliceLayout / withTpuRequest: a slice is chips ÷ chips per host', () => {
  it.each<[string, string, string, { chips: number; perHost: number; hosts: number }]>([
    ['single-host v5e 2x4', V5E, '2x4', { chips: 8, perHost: 8, hosts: 1 }],
    ['single-host v5e 2x2', V5E, '2x2', { chips: 4, perHost: 4, hosts: 1 }],
    ['multi-host v5e 4x4 on 4-chip hosts', V5E, '4x4', { chips: 16, perHost: 4, hosts: 4 }],
    ['v5p 2x4 on 4-chip hosts', 'tpu-v5p-slice', '2x4', { chips: 8, perHost: 4, hosts: 2 }],
    [
      'no node of the slice: one host of all its chips',
      V5E,
      '8x8',
      { chips: 64, perHost: 64, hosts: 1 },
    ],
  ])('%s', (_name, type, topology, layout) => {
    const nodes = tpuPools.map((n) => n.obj());
    expect(sliceLayout({ type, topology }, nodes)).toEqual(layout);
  });

  it('counts hosts as the failover preflight does for the same nodes', () => {
    const hosts = [0, 1, 2, 3].map((i) =>
      node(`h-${i}`).tpuHost('tpu-v5p-slice', '2x2x4', 4).obj(),
    );
    const preflight = expectedNodesFromLabels(
      hosts.map((h) => ({
        name: h.name,
        labels: { ...h.labels },
        unschedulable: false,
        ready: true,
      })),
    );
    expect(preflight).toMatchObject({ expected: 4 });
    expect(sliceLayout({ type: 'tpu-v5p-slice', topology: '2x2x4' }, hosts).hosts).toBe(4);
  });

  it('a single-host slice is one pod of all its chips; a multi-host slice a gang of one pod per host', () => {
    const nodes = tpuPools.map((n) => n.obj());
    const single = withTpuRequest(job('s').cpu(1).tpu(V5E, '2x4').obj(), nodes);
    expect(single.resources.tpu).toBe(8);
    expect(single.podSets).toBeUndefined();
    const multi = withTpuRequest(job('m').cpu(1).tpu(V5E, '4x4').obj(), nodes);
    expect(multi.resources.tpu).toBe(4);
    expect(multi.podSets).toEqual([
      {
        name: 'slice',
        count: 4,
        resources: { ...job('m').cpu(1).obj().resources, tpu: 4 },
        slices: 1,
      },
    ]);
    const cpu = job('c').cpu(1).obj();
    expect(withTpuRequest(cpu, nodes)).toBe(cpu);
  });

  it('a multi-host slice stored as its hosts’ pods (the sum in resources) keeps one host’s requests per pod', () => {
    const nodes = tpuPools.map((n) => n.obj());
    const stored = job('m').cpu(4).tpu(V5E, '4x4').pods('slice', 4, { cpu: 1 }).obj();
    const multi = withTpuRequest(stored, nodes);
    const onePod = { ...stored.podSets![0]!.resources, tpu: 4 };
    expect(onePod.cpuMillis).toBe(1000);
    expect(multi.resources).toEqual(onePod);
    expect(multi.podSets).toEqual([{ name: 'slice', count: 4, resources: onePod, slices: 1 }]);
  });
});

describe('decide: an indexed Job on a single-host slice takes one host per pod', () => {
  /** Three v5e 2x4 hosts (8 chips each), and a v5e 2x2 host first-fit would meet first. */
  const hosts = () => [
    node('a-v5e-2x2').tpuHost(V5E, '2x2', 4),
    ...[0, 1, 2].map((i) => node(`h-v5e-2x4-${i}`).tpuHost(V5E, '2x4', 8)),
  ];

  it('each pod asks for the whole host; the job holds their sum', () => {
    const nodes = hosts().map((n) => n.obj());
    const j = withTpuRequest(job('j').tpu(V5E, '2x4').pods('main', 2, { cpu: 1 }).obj(), nodes);
    expect(j.podSets).toEqual([
      { name: 'main', count: 2, resources: { cpuMillis: 1000, memoryBytes: 0, gpu: 0, tpu: 8 } },
    ]);
    expect(j.resources.tpu).toBe(16);
  });

  it.each<[string, number, number, string[] | WaitReason]>([
    ['2 pods, 3 free hosts: one pod per host', 2, 0, ['h-v5e-2x4-0', 'h-v5e-2x4-1']],
    ['3 pods, 3 free hosts: every host', 3, 0, ['h-v5e-2x4-0', 'h-v5e-2x4-1', 'h-v5e-2x4-2']],
    ['4 pods, 3 hosts: never two pods on one host', 4, 0, 'Unschedulable'],
    [
      '2 pods, 2 of 3 hosts busy: waits, not packed onto the free one',
      2,
      2,
      'InsufficientCapacity',
    ],
  ])('%s', (_name, pods, busy, expected) => {
    const nodes = hosts().map((n, i) => (i >= 1 && i <= busy ? n.tpuInUse(8) : n));
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').tpu(V5E, '2x4').pods('main', pods, { cpu: 1 }))
        .nodes(...nodes)
        .obj(),
    );
    if (typeof expected === 'string') {
      expect(d.admitted).toEqual([]);
      expect(waitingFor(d, 'j').reason).toBe(expected);
      return;
    }
    const admission = d.admitted.find((a) => a.jobId === 'j');
    const nodesOf = (admission?.placements ?? []).flatMap((p) =>
      Array.from({ length: p.count }, () => p.node),
    );
    expect(nodesOf).toEqual(expected);
  });
});

describe('decide: a tenant TPU quota in chips, of all types and per type', () => {
  const V5P = 'tpu-v5p-slice';
  const hosts = () => [
    ...[0, 1, 2].map((i) => node(`h-v5e-2x4-${i}`).tpuHost(V5E, '2x4', 8)),
    node('p-v5p-2x2').tpuHost(V5P, '2x2', 4),
  ];
  const slice = (id: string, at = 0) => job(id).cpu(1).tpu(V5E, '2x4').at(at);
  type Row = [
    string,
    ReturnType<typeof tenant>,
    ReturnType<typeof job>[],
    string[],
    [WaitReason, RegExp] | null,
  ];
  it.each<Row>([
    ['no TPU quota: any number of chips', tenant('a'), [slice('j')], ['j'], null],
    [
      'within the quota with what runs',
      tenant('a').tpuQuota(16).running(1, { cpu: 1 }).runningTpus(V5E, 8),
      [slice('j')],
      ['j'],
      null,
    ],
    [
      'over the quota with what runs: WaitingForQuota',
      tenant('a').tpuQuota(16).running(2, { cpu: 2 }).runningTpus(V5E, 16),
      [slice('j')],
      [],
      [
        'WaitingForQuota',
        /^Waiting for tenant a's tpu quota \(16 TPU chips in use \+ 8 TPU chips requested > 16 TPU chips limit\)$/,
      ],
    ],
    [
      'jobs admitted earlier in the cycle count',
      tenant('a').tpuQuota(8),
      [slice('first', 0), slice('j', 1)],
      ['first'],
      [
        'WaitingForQuota',
        /tpu quota \(8 TPU chips in use \+ 8 TPU chips requested > 8 TPU chips limit\)/,
      ],
    ],
    [
      'over the quota of its type',
      tenant('a').tpuQuota(8, V5E).running(1, { cpu: 1 }).runningTpus(V5E, 8),
      [slice('j')],
      [],
      [
        'WaitingForQuota',
        /tenant a's tpu-v5-lite-podslice tpu quota \(8 TPU chips in use \+ 8 TPU chips requested > 8 TPU chips limit\)/,
      ],
    ],
    [
      "another type's chips do not count against the type's quota",
      tenant('a').tpuQuota(8, V5E).running(1, { cpu: 1 }).runningTpus(V5P, 4),
      [slice('j')],
      ['j'],
      null,
    ],
    [
      'a gang counts every pod: 2 pods of a whole 8-chip host each',
      tenant('a').tpuQuota(16).running(1, { cpu: 1 }).runningTpus(V5P, 4),
      [slice('j').pods('main', 2, { cpu: 1 })],
      [],
      [
        'WaitingForQuota',
        /tpu quota \(4 TPU chips in use \+ 16 TPU chips requested > 16 TPU chips limit\)/,
      ],
    ],
    [
      'more than the tenant may ever hold: Unschedulable',
      tenant('a').tpuQuota(16),
      [slice('j').pods('main', 3, { cpu: 1 })],
      [],
      ['Unschedulable', /requests 24 TPU chips but the tenant's whole tpu quota is 16 TPU chips/],
    ],
    [
      "more than its type's quota: Unschedulable",
      tenant('a').tpuQuota(4, V5E),
      [slice('j')],
      [],
      [
        'Unschedulable',
        /requests 8 TPU chips of type tpu-v5-lite-podslice but the tenant's whole tpu-v5-lite-podslice tpu quota is 4 TPU chips/,
      ],
    ],
  ])('%s', (_name, t, jobs, admitted, waiting) => {
    const d = decide(
      snapshot()
        .tenants(t)
        .jobs(...jobs)
        .nodes(...hosts())
        .at(2)
        .obj(),
    );
    expect(d.admitted.map((a) => a.jobId)).toEqual(admitted);
    if (waiting) {
      const w = waitingFor(d, 'j');
      expect(w.reason).toBe(waiting[0]);
      expect(w.message).toMatch(waiting[1]);
    }
  });
});

describe('decide: a TPU job runs only on hosts of its slice type and topology', () => {
  it.each<[string, ReturnType<typeof job>, string]>([
    ['v5e 2x4 skips the v5e 2x2 and the v5p 2x4 hosts', job('j').tpu(V5E, '2x4'), 'd-v5e-2x4'],
    ['v5e 2x2', job('j').tpu(V5E, '2x2'), 'b-v5e-2x2'],
  ])('%s', (_name, j, expected) => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(j)
        .nodes(...tpuPools)
        .obj(),
    );
    expect(placed(d)).toEqual([['j', expected]]);
  });

  it('counts chips: a second slice waits for the host the first one took', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('first').tpu(V5E, '2x4').at(0), job('second').tpu(V5E, '2x4').at(1))
        .nodes(...tpuPools)
        .at(2)
        .obj(),
    );
    expect(placed(d)).toEqual([['first', 'd-v5e-2x4']]);
    expect(waitingFor(d, 'second')).toMatchObject({
      reason: 'InsufficientCapacity',
      blocker: { best: { node: 'd-v5e-2x4', free: { tpu: 0 } } },
    });
  });

  it('waits while the host is busy with pods roam does not manage', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').tpu(V5E, '2x4'))
        .nodes(node('d-v5e-2x4').tpuHost(V5E, '2x4', 8).tpuInUse(8))
        .obj(),
    );
    expect(waitingFor(d, 'j').reason).toBe('InsufficientCapacity' satisfies WaitReason);
  });

  it('an admitted slice not yet bound holds its host (withAssumed)', () => {
    const nodes = withAssumed(
      tpuPools.map((n) => n.obj()),
      [job('in-flight').tpu(V5E, '2x4').obj()],
    );
    expect(nodes.find((n) => n.name === 'd-v5e-2x4')?.requested.tpu).toBe(8);
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').tpu(V5E, '2x4'))
        .nodes(...nodes)
        .obj(),
    );
    expect(d.admitted).toEqual([]);
  });

  it.each<[string, ReturnType<typeof job>, RegExp]>([
    [
      'no host of the topology',
      job('j').tpu(V5E, '8x8'),
      /no node matches the job's TPU type tpu-v5-lite-podslice with topology 8x8, node selector and tolerations/,
    ],
    [
      'no host of the type',
      job('j').tpu('tpu-v6e-slice', '2x4'),
      /no node matches the job's TPU type tpu-v6e-slice with topology 2x4/,
    ],
  ])('Unschedulable: %s', (_name, j, message) => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(j)
        .nodes(...tpuPools)
        .obj(),
    );
    expect(waitingFor(d, 'j')).toMatchObject({
      reason: 'Unschedulable' satisfies WaitReason,
      message: expect.stringMatching(message),
    });
  });

  it('a job without a TPU never lands on a TPU host (their taint keeps it off)', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu(1))
        .nodes(node('a-v5e').tpuHost(V5E, '2x4', 8), node('b-cpu'))
        .obj(),
    );
    expect(placed(d)).toEqual([['j', 'b-cpu']]);
  });
});

describe('withAssumed: in-flight jobs are placed by their flavor', () => {
  it('an admitted spot L4 job holds a spot L4 node, not the first GPU node by name', () => {
    const nodes = withAssumed(
      [
        node('a-h100').accelerator('nvidia-h100-80gb').obj(),
        node('b-l4-spot').accelerator('nvidia-l4').spot().obj(),
      ],
      [job('in-flight').gpu(2).gpuType('nvidia-l4').capacity('spot').obj()],
    );
    expect(nodes.map((n) => [n.name, n.requested.gpu])).toEqual([
      ['a-h100', 0],
      ['b-l4-spot', 2],
    ]);
  });
});

describe('decide: prefer-spot is spot when a spot node has room, else on-demand', () => {
  // On-demand first by name, so plain first-fit would pick it.
  const l4 = (spotUsed: number) => [
    node('a-l4').accelerator('nvidia-l4'),
    node('b-l4-spot').accelerator('nvidia-l4').spot().requested({ gpu: spotUsed }),
  ];
  const admitted = (d: AdmissionDecision) =>
    d.admitted.map((a) => [a.jobId, a.node, a.capacity, a.placements]);

  it.each<[string, ReturnType<typeof node>[], string, 'spot' | 'on-demand']>([
    ['spot has room: spot, though on-demand comes first by name', l4(0), 'b-l4-spot', 'spot'],
    ['spot is full: on-demand', l4(8), 'a-l4', 'on-demand'],
    ['spot has too little room for the job: on-demand', l4(6), 'a-l4', 'on-demand'],
    [
      'no spot node at all: on-demand',
      [node('a-l4').accelerator('nvidia-l4')],
      'a-l4',
      'on-demand',
    ],
    [
      'only spot nodes: spot',
      [node('b-l4-spot').accelerator('nvidia-l4').spot()],
      'b-l4-spot',
      'spot',
    ],
  ])('%s', (_name, nodes, expected, capacity) => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').gpu(4).gpuType('nvidia-l4').capacity('prefer-spot'))
        .nodes(...nodes)
        .obj(),
    );
    expect(admitted(d)).toEqual([['j', expected, capacity, undefined]]);
  });

  it('fills spot first, then on-demand, within one cycle', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          ...[0, 1, 2].map((i) =>
            job(`j${i}`).gpu(8).gpuType('nvidia-l4').capacity('prefer-spot').at(i),
          ),
        )
        .nodes(...l4(0))
        .at(3)
        .obj(),
    );
    expect(admitted(d)).toEqual([
      ['j0', 'b-l4-spot', 'spot', undefined],
      ['j1', 'a-l4', 'on-demand', undefined],
    ]);
    expect(waitingFor(d, 'j2')).toMatchObject({
      reason: 'InsufficientCapacity',
      blocker: { needed: { gpu: 8 } },
    });
    expect(d.admitted.find((a) => a.jobId === 'j2')).toBeUndefined();
  });

  it('a job naming another capacity gets no admitted capacity', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('spot').gpu(1).capacity('spot'), job('any').gpu(1))
        .nodes(...l4(0))
        .obj(),
    );
    expect(d.admitted.map((a) => a.capacity)).toEqual([undefined, undefined]);
  });

  it('a gang goes whole to one capacity: on-demand when spot cannot hold every pod', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('g').gpuType('nvidia-l4').capacity('prefer-spot').pods('workers', 2, { gpu: 8 }))
        .nodes(
          node('a-l4').accelerator('nvidia-l4'),
          node('b-l4').accelerator('nvidia-l4'),
          node('c-l4-spot').accelerator('nvidia-l4').spot(),
        )
        .obj(),
    );
    expect(admitted(d)).toEqual([
      [
        'g',
        'a-l4',
        'on-demand',
        [
          { podSet: 'workers', node: 'a-l4', count: 1 },
          { podSet: 'workers', node: 'b-l4', count: 1 },
        ],
      ],
    ]);
  });

  it('a gang that fits on spot goes to spot', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('g').gpuType('nvidia-l4').capacity('prefer-spot').pods('workers', 2, { gpu: 4 }))
        .nodes(
          node('a-l4').accelerator('nvidia-l4'),
          node('c-l4-spot').accelerator('nvidia-l4').spot(),
        )
        .obj(),
    );
    expect(admitted(d)).toEqual([
      ['g', 'c-l4-spot', 'spot', [{ podSet: 'workers', node: 'c-l4-spot', count: 2 }]],
    ]);
  });

  it('is Unschedulable only when no node of either capacity could hold it', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').gpu(1).gpuType('nvidia-h100-80gb').capacity('prefer-spot'))
        .nodes(...l4(0))
        .obj(),
    );
    expect(waitingFor(d, 'j')).toMatchObject({ reason: 'Unschedulable' });
  });

  it('withAssumed places an admitted prefer-spot job on the capacity it was admitted to', () => {
    const nodes = withAssumed(
      l4(0).map((n) => n.obj()),
      [{ resources: job('x').gpu(8).obj().resources, capacity: 'on-demand', gpuType: 'nvidia-l4' }],
    );
    expect(nodes.map((n) => [n.name, n.requested.gpu])).toEqual([
      ['a-l4', 8],
      ['b-l4-spot', 0],
    ]);
  });
});
