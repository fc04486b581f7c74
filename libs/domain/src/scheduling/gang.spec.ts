import { describe, expect, it } from '@jest/globals';

import { decide, type AdmissionDecision } from './admission.js';
import { explain } from './explain.js';
import { jobTotal } from './gang.js';
import { withAssumed } from './nodes.js';
import { job, node, resources, snapshot, tenant } from './testing.js';

const waitingFor = (d: AdmissionDecision, id: string) => {
  const w = d.waiting.find((x) => x.jobId === id);
  if (!w) throw new Error(`${id} is not waiting`);
  return w;
};
const admittedIds = (d: AdmissionDecision) => d.admitted.map((a) => a.jobId);

/** A GKE node with `gpus` H100s, the accelerator label and the GPU taint. */
const h100 = (name: string, gpus = 8) => node(name).accelerator('nvidia-h100-80gb', gpus);

describe('decide: a gang is admitted with every pod placed, and says where', () => {
  it('places each set first-fit, largest pods first, and reports pods per set and node', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('train')
            .pods('driver', 1, { cpu: 2, memory: '4Gi' })
            .pods('workers', 3, { cpu: 8, memory: '64Gi', gpu: 4 }),
        )
        .nodes(node('cpu-1'), h100('gpu-1'), h100('gpu-2'))
        .obj(),
    );
    expect(d.admitted).toEqual([
      {
        jobId: 'train',
        tenantId: 'a',
        node: 'gpu-1',
        starving: false,
        placements: [
          { podSet: 'workers', node: 'gpu-1', count: 2 },
          { podSet: 'workers', node: 'gpu-2', count: 1 },
          { podSet: 'driver', node: 'cpu-1', count: 1 },
        ],
      },
    ]);
  });

  it('a single-pod job keeps its one node hint and has no placements', () => {
    const d = decide(snapshot().tenants(tenant('a')).jobs(job('one')).nodes(node('n1')).obj());
    expect(d.admitted).toEqual([{ jobId: 'one', tenantId: 'a', node: 'n1', starving: false }]);
  });
});

describe('decide: all or nothing', () => {
  it('a gang that does not fit takes nothing: the next job gets the room its pods tried', () => {
    // n1 has room for one 4-CPU pod, n2 for two: three of the gang's four pods would fit.
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('gang').pods('workers', 4, { cpu: 4, memory: '1Gi' }).at(0),
          job('single').cpu(4).at(1),
        )
        .nodes(node('n1').requested({ cpu: 4 }), node('n2'))
        .at(2)
        .obj(),
    );
    expect(d.admitted).toEqual([{ jobId: 'single', tenantId: 'a', node: 'n1', starving: false }]);
    expect(waitingFor(d, 'gang')).toMatchObject({
      reason: 'InsufficientCapacity',
      message:
        'No room for the gang of 4 pods (4 × workers: 4 CPU, 1Gi memory) now: room for 2 of 4 workers',
    });
  });

  it('a second identical gang waits once the first took the room, and a smaller one still fits', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('first').pods('workers', 3, { cpu: 4, memory: '1Gi' }).at(0),
          job('second').pods('workers', 3, { cpu: 4, memory: '1Gi' }).at(1),
          job('small').pods('workers', 1, { cpu: 4, memory: '1Gi' }).at(2),
        )
        .nodes(node('n1'), node('n2'))
        .at(3)
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['first', 'small']);
    expect(d.admitted[1]?.placements).toEqual([{ podSet: 'workers', node: 'n2', count: 1 }]);
    expect(waitingFor(d, 'second').message).toMatch(/room for 0 of 3 workers/);
  });

  it('every pod needs a free pod slot', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('gang').pods('main', 3, { cpu: '100m', memory: '64Mi' }))
        .nodes(node('n1').pods(10, 8), node('n2').pods(10, 10), node('n3').pods(10, 9))
        .obj(),
    );
    expect(d.admitted[0]?.placements).toEqual([
      { podSet: 'main', node: 'n1', count: 2 },
      { podSet: 'main', node: 'n3', count: 1 },
    ]);
  });

  it('pods go only to usable nodes their flavor, selector and taints accept', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('gang')
            .gpuType('nvidia-h100-80gb')
            .capacity('spot')
            .pods('driver', 1, { cpu: 1, memory: '1Gi' })
            .pods('workers', 2, { cpu: 8, memory: '8Gi', gpu: 8 }),
        )
        .nodes(
          node('a-cpu-on-demand'),
          node('b-cpu-spot').spot(),
          node('c-l4-spot').accelerator('nvidia-l4').spot(),
          h100('d-h100-on-demand'),
          h100('e-h100-spot').spot(),
          h100('f-h100-spot').spot().cordoned(),
          h100('g-h100-spot').spot(),
        )
        .obj(),
    );
    // The GPU type binds the GPU pods only; spot binds them all.
    expect(d.admitted[0]?.placements).toEqual([
      { podSet: 'workers', node: 'e-h100-spot', count: 1 },
      { podSet: 'workers', node: 'g-h100-spot', count: 1 },
      { podSet: 'driver', node: 'b-cpu-spot', count: 1 },
    ]);
  });
});

describe('decide: quota and concurrency count the whole gang', () => {
  it('quota is the sum of every pod: a gang over what is left waits, with the numbers', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ gpu: 16 }).running(1, { gpu: 8 }))
        .jobs(job('gang').pods('workers', 3, { cpu: 1, memory: '1Gi', gpu: 4 }))
        .nodes(h100('g1'), h100('g2'))
        .obj(),
    );
    expect(waitingFor(d, 'gang')).toMatchObject({
      reason: 'WaitingForQuota',
      message:
        "Waiting for tenant a's gpu quota (8 GPUs in use + 12 GPUs requested > 16 GPUs limit)",
    });
  });

  it('a per-type GPU quota counts the GPU pods of the gang', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').gpuQuota('nvidia-h100-80gb', 8))
        .jobs(
          job('gang')
            .gpuType('nvidia-h100-80gb')
            .pods('driver', 1, { cpu: 1, memory: '1Gi' })
            .pods('workers', 2, { cpu: 1, memory: '1Gi', gpu: 8 }),
        )
        .nodes(node('c1'), h100('g1'), h100('g2'))
        .obj(),
    );
    expect(waitingFor(d, 'gang')).toMatchObject({
      reason: 'Unschedulable',
      message: expect.stringContaining(
        "requests 16 GPUs of type nvidia-h100-80gb but the tenant's whole nvidia-h100-80gb quota is 8 GPUs",
      ),
    });
  });

  it('a gang larger than the whole quota is Unschedulable', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ cpu: 10 }))
        .jobs(job('gang').pods('workers', 3, { cpu: 4, memory: '1Gi' }))
        .nodes(node('n1'), node('n2'))
        .obj(),
    );
    expect(waitingFor(d, 'gang')).toMatchObject({
      reason: 'Unschedulable',
      message:
        "Can never run on this cluster: requests 12 CPU but the tenant's whole cpu quota is 10 CPU",
    });
  });

  it('the concurrency limit counts a gang as one job', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').concurrency(2).running(1, { cpu: 1 }))
        .jobs(job('gang').pods('workers', 4, { cpu: 1, memory: '1Gi' }).at(0), job('next').at(1))
        .nodes(node('n1'))
        .at(2)
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['gang']);
    expect(waitingFor(d, 'next').reason).toBe('ConcurrencyLimit');
  });

  it('fair share charges the tenant for every pod of its gang', () => {
    // 24 CPUs. After its gang a holds 8 (1/3), more than b's 6 (1/4), so b goes next; counted
    // as one pod (4, 1/6) the gang would have let a go first.
    const d = decide(
      snapshot()
        .tenants(tenant('a'), tenant('b').running(1, { cpu: 6 }))
        .jobs(
          job('a-gang').of('a').pods('workers', 2, { cpu: 4, memory: '1Gi' }).at(0),
          job('a-next').of('a').cpu(4).at(0),
          job('b-one').of('b').cpu(4).at(1),
        )
        .nodes(node('n1'), node('n2'), node('n3'))
        .at(2)
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['a-gang', 'b-one', 'a-next']);
  });

  it('jobTotal is the sum of every pod of every set', () => {
    expect(
      jobTotal(
        job('g')
          .pods('driver', 1, { cpu: 1, memory: '2Gi' })
          .pods('workers', 4, { cpu: 8, memory: '64Gi', gpu: 8 })
          .obj(),
      ),
    ).toEqual(resources({ cpu: 33, memory: '258Gi', gpu: 32 }));
  });
});

describe('decide: a gang that can never fit is Unschedulable', () => {
  it('when the whole cluster, emptied, cannot hold every pod', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('gang')
            .pods('driver', 4, { cpu: 1, memory: '1Gi' })
            .pods('workers', 12, { cpu: 8, memory: '64Gi', gpu: 8 }),
        )
        .nodes(
          node('cpu-1'),
          ...Array.from({ length: 8 }, (_, i) => h100(`gpu-${i}`).requested({ gpu: 8 })),
          h100('gpu-8').notReady(),
        )
        .obj(),
    );
    expect(waitingFor(d, 'gang')).toMatchObject({
      reason: 'Unschedulable',
      message:
        'Can never run on this cluster: the gang of 16 pods (4 × driver: 1 CPU, 1Gi memory; 12 × workers: 8 CPU, 64Gi memory, 8 GPUs) does not fit even on the whole cluster emptied: room for 9 of 12 workers',
      offloadCandidate: false,
    });
  });

  it('when one of its pods is larger than any node', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('gang')
            .pods('driver', 1, { cpu: 1, memory: '1Gi' })
            .pods('workers', 2, { cpu: 8, memory: '8Gi', gpu: 16 }),
        )
        .nodes(node('c1'), h100('g1'))
        .obj(),
    );
    expect(waitingFor(d, 'gang').message).toBe(
      'Can never run on this cluster: a workers pod requests 16 GPUs but the largest node (g1) has 8 GPUs allocatable',
    );
  });
});

describe('decide: a starving gang reserves the nodes closest to fitting it', () => {
  it('reserves enough of the least busy nodes for every set, and no one else is placed there', () => {
    // Three GPU nodes, 8 GPUs each; the 2×8 gang needs two of them drained. g2 and g3 are the
    // closest (2 GPUs busy each, g1 has 6). A newer 1-GPU job of tenant b only gets g1.
    const d = decide(
      snapshot()
        .tenants(tenant('a'), tenant('b'))
        .jobs(
          job('gang').of('a').pods('workers', 2, { cpu: 1, memory: '1Gi', gpu: 8 }).at(0),
          job('small').of('b').gpu(1).at(15),
        )
        .nodes(
          h100('g1').requested({ gpu: 6 }),
          h100('g2').requested({ gpu: 2 }),
          h100('g3').requested({ gpu: 2 }),
        )
        .at(20)
        .obj(),
      { starvationThresholdMs: 10 * 60_000 },
    );
    expect(d.reservations).toEqual([
      { jobId: 'gang', tenantId: 'a', node: 'g2' },
      { jobId: 'gang', tenantId: 'a', node: 'g3' },
    ]);
    expect(d.admitted).toEqual([{ jobId: 'small', tenantId: 'b', node: 'g1', starving: false }]);
    expect(waitingFor(d, 'gang').message).toMatch(
      /room for 0 of 2 workers; it has waited over 10m, so nodes g2, g3 are reserved for it/,
    );
  });

  it('reserves nothing when the usable nodes could not hold it even drained', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('gang').pods('workers', 2, { cpu: 1, memory: '1Gi', gpu: 8 }).at(0))
        .nodes(h100('g1').requested({ gpu: 1 }), h100('g2').cordoned())
        .at(20)
        .obj(),
    );
    expect(d.reservations).toEqual([]);
    expect(waitingFor(d, 'gang')).toMatchObject({
      reason: 'InsufficientCapacity',
      message: expect.stringMatching(/room for 0 of 2 workers; cordoned, NotReady or tainted: g2$/),
    });
  });

  it('a gang kept out by another job reservation says so', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'), tenant('b'))
        .jobs(
          job('old').of('a').cpu(8).at(0),
          job('gang').of('b').pods('workers', 2, { cpu: 2, memory: '1Gi' }).at(15),
        )
        .nodes(node('n1').requested({ cpu: 2 }), node('n2').requested({ cpu: 7 }))
        .at(20)
        .obj(),
    );
    expect(d.reservations).toEqual([{ jobId: 'old', tenantId: 'a', node: 'n1' }]);
    expect(waitingFor(d, 'gang').message).toMatch(
      /room for 0 of 2 workers; node n1 has room but is reserved for starving job old$/,
    );
  });
});

describe('explain: a gang', () => {
  it('names the nodes its pods fit on, or the room each set lacks', () => {
    const s = snapshot()
      .tenants(tenant('a'))
      .jobs(
        job('fits').pods('workers', 2, { cpu: 8, memory: '1Gi' }).at(0),
        job('waits').pods('workers', 2, { cpu: 8, memory: '1Gi' }).at(1),
      )
      .nodes(node('n1'), node('n2'), node('n3'))
      .at(2)
      .obj();
    expect(explain(s, 'fits')?.summary).toBe('Admitted in the next cycle (its pods fit on n1, n2)');
    expect(explain(s, 'waits')?.unblock).toEqual(['room for 1 more workers pod']);
  });
});

describe('withAssumed: an admitted gang holds room for all its pods', () => {
  it('places every pod first-fit, largest first, each taking a slot', () => {
    const nodes = withAssumed(
      [node('n1').pods(10, 0).obj(), node('n2').pods(10, 0).obj()],
      [
        {
          resources: resources({ cpu: 7, memory: '2Gi' }),
          podSets: [
            { name: 'driver', count: 1, resources: resources({ cpu: 1, memory: '1Gi' }) },
            { name: 'workers', count: 2, resources: resources({ cpu: 3, memory: '1Gi' }) },
          ],
        },
      ],
    );
    expect(nodes.map((n) => [n.name, n.requested.cpuMillis, n.pods?.used])).toEqual([
      ['n1', 7000, 3],
      ['n2', 0, 0],
    ]);
  });
});

describe('docs/scheduling.md#gangs: the 8-worker GPU gang', () => {
  const gang = job('train')
    .gpuType('nvidia-h100-80gb')
    .pods('workers', 8, { cpu: 32, memory: '256Gi', gpu: 8 })
    .pods('driver', 1, { cpu: 2, memory: '8Gi' })
    .at(0);
  const nodes = [
    node('cpu-1').allocatable({ cpu: 16, memory: '64Gi' }),
    ...Array.from({ length: 6 }, (_, i) => h100(`h100-free-${i}`)),
    ...Array.from({ length: 4 }, (_, i) => h100(`h100-busy-${i}`).requested({ gpu: 4 + i })),
  ];

  it('waits with the room each set has', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ memory: '4Ti' }))
        .jobs(gang)
        .nodes(...nodes)
        .at(5)
        .obj(),
    );
    expect(waitingFor(d, 'train').message).toBe(
      'No room for the gang of 9 pods (8 × workers: 32 CPU, 256Gi memory, 8 GPUs; 1 × driver: 2 CPU, 8Gi memory) now: room for 6 of 8 workers',
    );
  });

  it('starving, reserves the eight H100 nodes closest to free and a CPU node for the driver', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ memory: '4Ti' }))
        .jobs(gang)
        .nodes(...nodes)
        .at(20)
        .obj(),
    );
    expect(d.reservations.map((r) => r.node)).toEqual([
      'cpu-1',
      'h100-busy-0',
      'h100-busy-1',
      'h100-free-0',
      'h100-free-1',
      'h100-free-2',
      'h100-free-3',
      'h100-free-4',
      'h100-free-5',
    ]);
  });
});
