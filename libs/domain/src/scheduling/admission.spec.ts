import { describe, expect, it } from '@jest/globals';

import { decide, type AdmissionDecision, type WaitReason } from './admission.js';
import type { PendingJob, Snapshot } from './snapshot.js';
import { job, minutes, node, resources, snapshot, tenant } from './testing.js';

const admittedIds = (d: AdmissionDecision): string[] => d.admitted.map((a) => a.jobId);
const waitingFor = (d: AdmissionDecision, id: string) => {
  const w = d.waiting.find((x) => x.jobId === id);
  if (!w) throw new Error(`${id} is not waiting: admitted ${admittedIds(d).join(',')}`);
  return w;
};
/** `n` equal jobs of a tenant, submitted one second apart (none starving within a minute). */
const many = (tenantId: string, n: number, cpu = 1): PendingJob[] =>
  Array.from({ length: n }, (_, i) =>
    job(`${tenantId}-${String(i).padStart(3, '0')}`)
      .of(tenantId)
      .cpu(cpu)
      .memory('1Gi')
      .at(i / 60)
      .obj(),
  );

describe('decide: why a job waits', () => {
  it.each<[string, Snapshot, WaitReason, RegExp]>([
    [
      'tenant at its memory quota',
      snapshot()
        .tenants(tenant('a').quota({ memory: '4Gi' }).running(1, { cpu: 1, memory: '3Gi' }))
        .jobs(job('j').memory('2Gi'))
        .nodes(node('n1'))
        .obj(),
      'WaitingForQuota',
      /memory quota \(3Gi memory in use \+ 2Gi memory requested > 4Gi memory limit\)/,
    ],
    [
      'tenant at its concurrency limit',
      snapshot()
        .tenants(tenant('a').concurrency(2).running(2, { cpu: 2 }))
        .jobs(job('j'))
        .nodes(node('n1'))
        .obj(),
      'ConcurrencyLimit',
      /2 of 2 jobs/,
    ],
    [
      'GPU job and no GPU node',
      snapshot().tenants(tenant('a')).jobs(job('j').gpu(1)).nodes(node('n1'), node('n2')).obj(),
      'Unschedulable',
      /requests 1 GPU but no node has any gpu/,
    ],
    [
      'job larger than the tenant quota',
      snapshot()
        .tenants(tenant('a').quota({ cpu: 2 }))
        .jobs(job('j').cpu(4))
        .nodes(node('n1'))
        .obj(),
      'Unschedulable',
      /whole cpu quota is 2 CPU/,
    ],
    [
      'cluster full now',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu(2))
        .nodes(node('n1').requested({ cpu: 7 }), node('n2').requested({ cpu: 8 }))
        .obj(),
      'InsufficientCapacity',
      /closest is n1 with 1 CPU, 32Gi memory free/,
    ],
    [
      'only node large enough is cordoned',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu(16))
        .nodes(node('n1'), node('n2').allocatable({ cpu: 32 }).cordoned())
        .obj(),
      'InsufficientCapacity',
      /cordoned, NotReady or tainted: n2/,
    ],
    [
      'offload required',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').gpu(1).offload('required'))
        .nodes(node('n1'))
        .obj(),
      'Offload',
      /Offload is required/,
    ],
    [
      'unknown tenant',
      snapshot().tenants(tenant('a')).jobs(job('j').of('ghost')).nodes(node('n1')).obj(),
      'UnknownTenant',
      /ghost is unknown/,
    ],
  ])('%s', (_name, snap, reason, message) => {
    const d = decide(snap);
    expect(d.admitted).toEqual([]);
    expect(waitingFor(d, 'j')).toMatchObject({ reason, message: expect.stringMatching(message) });
  });
});

describe('decide: quota and concurrency', () => {
  it('holds a tenant at quota and lets the other tenants proceed', () => {
    const d = decide(
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 2 }).running(2, { cpu: 2 }),
          tenant('b').quota({ cpu: 4 }),
        )
        .jobs(...many('a', 3), ...many('b', 3))
        .nodes(node('n1'))
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['b-000', 'b-001', 'b-002']);
    for (const id of ['a-000', 'a-001', 'a-002']) {
      expect(waitingFor(d, id)).toMatchObject({
        reason: 'WaitingForQuota',
        blocker: {
          kind: 'quota',
          shortfalls: [{ resource: 'cpuMillis', used: 2000, limit: 2000 }],
        },
      });
    }
  });

  it('backfills a smaller job of the same tenant into the quota a big one cannot use yet', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').quota({ cpu: 4 }).running(1, { cpu: 2 }))
        .jobs(job('big').cpu(4).at(0), job('small').cpu(1).at(1))
        .nodes(node('n1'))
        .at(2)
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['small']);
    expect(waitingFor(d, 'big').reason).toBe('WaitingForQuota');
  });

  it('admits up to the concurrency limit, highest priority first, then oldest', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').concurrency(3).running(1, { cpu: 1 }))
        .jobs(
          job('old').at(0),
          job('older').at(-5),
          job('urgent').priority(5).at(3),
          job('new').at(4),
        )
        .nodes(node('n1'))
        .at(5)
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['urgent', 'older']);
    expect(waitingFor(d, 'old').reason).toBe('ConcurrencyLimit');
    expect(waitingFor(d, 'new').reason).toBe('ConcurrencyLimit');
  });
});

describe('decide: priority', () => {
  it.each<[string, Snapshot, string]>([
    [
      "a tenant's high-priority job is not stuck behind its own older low-priority jobs",
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('low1').at(0), job('low2').at(1), job('high').priority(10).at(5))
        .nodes(node('n1').requested({ cpu: 7 }))
        .at(6)
        .obj(),
      'high',
    ],
    [
      "another tenant's backlog of low-priority jobs does not block it: the lower share goes first",
      snapshot()
        .tenants(tenant('a'), tenant('b').running(3, { cpu: 3, memory: '3Gi' }))
        .jobs(...many('b', 5), job('high').of('a').priority(10).at(1))
        .nodes(node('n1').requested({ cpu: 7 }))
        .at(2)
        .obj(),
      'high',
    ],
    [
      'but priority does not buy more than the fair share: the tenant with less running wins',
      snapshot()
        .tenants(tenant('a').running(4, { cpu: 4, memory: '4Gi' }), tenant('b'))
        .jobs(job('high').of('a').priority(100), job('low').of('b').priority(-100))
        .nodes(node('n1').requested({ cpu: 7 }))
        .obj(),
      'low',
    ],
    [
      'at equal shares, priority does not rank one tenant above another: the longer wait wins',
      snapshot()
        .tenants(tenant('noisy'), tenant('quiet'))
        .jobs(job('loud').of('noisy').priority(1000).at(1), job('calm').of('quiet').at(0))
        .nodes(node('n1').requested({ cpu: 7 }))
        .at(2)
        .obj(),
      'calm',
    ],
  ])('%s', (_name, snap, winner) => {
    expect(admittedIds(decide(snap))).toEqual([winner]);
  });

  it("a noisy tenant's flood at priority 1000 does not keep a quiet tenant's job out", () => {
    // The noisy tenant's backlog is older, larger than any window, and all at priority 1000.
    const flood = Array.from({ length: 25_000 }, (_, i) =>
      job(`noisy-${String(i).padStart(5, '0')}`)
        .of('noisy')
        .priority(1000)
        .at(i / 60_000)
        .obj(),
    );
    const d = decide(
      snapshot()
        .tenants(tenant('noisy'), tenant('quiet'))
        .jobs(...flood, job('calm').of('quiet').at(1))
        .nodes(node('n1').allocatable({ cpu: 2 }))
        .at(2)
        .obj(),
    );
    expect(d.admitted.map((a) => [a.tenantId, a.jobId])).toEqual([
      ['noisy', 'noisy-00000'],
      ['quiet', 'calm'],
    ]);
    // Its queue position puts it ahead of the flood too: fair share, not priority, orders tenants.
    expect(waitingFor(d, 'noisy-00001').position).toEqual({ tenant: 1, global: 1 });
  });

  it('ranks tenants for queue positions by share and wait, never by priority', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('noisy'), tenant('quiet'))
        .jobs(
          job('loud').of('noisy').priority(1000).at(1),
          job('calm').of('quiet').at(0),
          job('running').of('quiet').at(0),
        )
        .nodes(node('n1').requested({ cpu: 8 }))
        .at(2)
        .obj(),
    );
    expect(d.admitted).toEqual([]);
    expect(waitingFor(d, 'calm').position?.global).toBe(1);
    expect(waitingFor(d, 'loud').position?.global).toBe(2);
  });
});

describe('decide: weighted dominant-resource fair share', () => {
  it('alternates between two equal tenants until the cluster is full', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'), tenant('b'))
        .jobs(...many('a', 10), ...many('b', 10))
        .nodes(node('n1'))
        .at(1)
        .obj(),
    );
    expect(d.admitted.map((a) => a.tenantId)).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(d.admitted.some((a) => a.starving)).toBe(false);
    expect(d.waiting.every((w) => w.reason === 'InsufficientCapacity')).toBe(true);
  });

  it.each([
    [1, 1, 6, 6],
    [2, 1, 8, 4],
    [3, 1, 9, 3],
    [1, 2, 4, 8],
  ])('weights %i:%i share 12 CPUs %i:%i', (wa, wb, expectA, expectB) => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').weight(wa), tenant('b').weight(wb))
        .jobs(...many('a', 20), ...many('b', 20))
        .nodes(node('n1').allocatable({ cpu: 12, memory: '64Gi' }))
        .at(1)
        .obj(),
    );
    const count = (t: string) => d.admitted.filter((a) => a.tenantId === t).length;
    expect([count('a'), count('b')]).toEqual([expectA, expectB]);
  });

  it('ranks by the dominant resource: a memory-heavy tenant yields to a CPU-light one', () => {
    const d = decide(
      snapshot()
        // a holds half the memory (dominant share 0.5); b holds a quarter of the CPUs (0.25).
        .tenants(
          tenant('a').running(1, { cpu: 1, memory: '16Gi' }),
          tenant('b').running(2, { cpu: 2, memory: '2Gi' }),
        )
        .jobs(job('a1').of('a').cpu(1), job('b1').of('b').cpu(1))
        .nodes(
          node('n1').requested({ cpu: 3, memory: '18Gi' }).allocatable({ cpu: 4 }),
          node('n2').allocatable({ cpu: 4, memory: '0' }),
        )
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['b1']);
  });
});

describe('decide: nodes', () => {
  it.each([
    ['cordoned', node('n1').cordoned()],
    ['NotReady', node('n1').notReady()],
    ['tainted NoSchedule', node('n1').taint('dedicated', 'NoSchedule', 'infra')],
    ['tainted NoExecute', node('n1').taint('dedicated', 'NoExecute', 'infra')],
  ])('never places a job on a %s node', (_name, unusable) => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu(2))
        .nodes(unusable, node('n2').requested({ cpu: 8 }))
        .obj(),
    );
    expect(d.admitted).toEqual([]);
    expect(waitingFor(d, 'j').reason).toMatch(/InsufficientCapacity|Unschedulable/);
  });

  it('uses nodes that accept the job through tolerations, selectors and the implicit GPU toleration', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'))
        .jobs(
          job('gpu').gpu(2),
          job('tolerant').tolerate({ key: 'dedicated', operator: 'Exists' }),
          job('selective').selector({ zone: 'b' }),
        )
        .nodes(
          node('gpu-1').allocatable({ gpu: 4 }).taint('nvidia.com/gpu'),
          node('infra').taint('dedicated', 'NoSchedule', 'infra'),
          node('zone-b').label('zone', 'b'),
          node('zone-a').label('zone', 'a').requested({ cpu: 8 }),
        )
        .obj(),
    );
    expect(d.admitted).toEqual([
      { jobId: 'gpu', tenantId: 'a', node: 'gpu-1', starving: false },
      { jobId: 'selective', tenantId: 'a', node: 'zone-b', starving: false },
      { jobId: 'tolerant', tenantId: 'a', node: 'infra', starving: false },
    ]);
  });

  it('accounts for what this cycle already placed (first-fit by node name)', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'), tenant('b'))
        .jobs(job('a1').of('a').cpu(3), job('b1').of('b').cpu(3), job('a2').of('a').cpu(3).at(1))
        .nodes(node('n1').allocatable({ cpu: 4 }), node('n2').allocatable({ cpu: 4 }))
        .at(1)
        .obj(),
    );
    expect(d.admitted.map((a) => [a.jobId, a.node])).toEqual([
      ['a1', 'n1'],
      ['b1', 'n2'],
    ]);
    expect(waitingFor(d, 'a2')).toMatchObject({ reason: 'InsufficientCapacity' });
  });

  it('leaves cordoned and NotReady capacity out of the fair-share total', () => {
    // Counting only n1 (8 CPU, 32Gi), a's dominant share is CPU 4/8 and b's memory 8/32, so b
    // goes first. Were the cordoned 64-CPU node counted, a's share would be 4/72 and b's
    // 8/33, and a would win the one free slot.
    const d = decide(
      snapshot()
        .tenants(
          tenant('a').running(1, { cpu: 4, memory: '1Gi' }),
          tenant('b').running(1, { cpu: 1, memory: '8Gi' }),
        )
        .jobs(job('a1').of('a').cpu(1).memory('1Gi'), job('b1').of('b').cpu(1).memory('1Gi'))
        .nodes(
          node('n1').requested({ cpu: 7, memory: '9Gi' }),
          node('big').allocatable({ cpu: 64, memory: '1Gi' }).cordoned(),
        )
        .obj(),
    );
    expect(admittedIds(d)).toEqual(['b1']);
  });
});

describe('decide: pod slots', () => {
  it.each<[string, Snapshot, string[]]>([
    [
      'never places more pods on a node than its allocatable.pods',
      snapshot()
        .tenants(tenant('a'))
        .jobs(...many('a', 5, 0.1))
        .nodes(node('n1').pods(3, 1))
        .at(1)
        .obj(),
      ['a-000', 'a-001'],
    ],
    [
      'a node whose slots are all taken takes nothing, however much CPU is free',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu('100m'))
        .nodes(node('n1').pods(110, 110))
        .obj(),
      [],
    ],
    [
      'spills over to the next node once a node is out of slots',
      snapshot()
        .tenants(tenant('a'), tenant('b'))
        .jobs(...many('a', 2, 0.1), ...many('b', 2, 0.1))
        .nodes(node('n1').pods(2), node('n2').pods(1))
        .at(1)
        .obj(),
      ['a-000', 'b-000', 'a-001'],
    ],
    [
      'a node without a pod limit is limited by resources only',
      snapshot()
        .tenants(tenant('a'))
        .jobs(...many('a', 4, 2))
        .nodes(node('n1'))
        .at(1)
        .obj(),
      ['a-000', 'a-001', 'a-002', 'a-003'],
    ],
  ])('%s', (_name, snap, admitted) => {
    expect(admittedIds(decide(snap))).toEqual(admitted);
  });

  it('says the node is out of pod slots when that is what keeps a job out', () => {
    const d = decide(
      snapshot().tenants(tenant('a')).jobs(job('j').cpu(1)).nodes(node('n1').pods(3, 3)).obj(),
    );
    const w = waitingFor(d, 'j');
    expect(w.reason).toBe('InsufficientCapacity');
    expect(w.blocker).toMatchObject({ best: { node: 'n1', pods: { free: 0, allocatable: 3 } } });
    expect(w.message).toMatch(
      /closest is n1 with 8 CPU, 32Gi memory free but all 3 of its pod slots taken/,
    );
  });

  it('a starving job reserves a node out of pod slots and starts once one frees', () => {
    const full = node('n1').pods(2, 2);
    const waiting = snapshot()
      .tenants(tenant('a'), tenant('b'))
      .jobs(job('old').of('a').at(0), job('new').of('b').at(20))
      .nodes(full)
      .at(30);
    const d = decide(waiting.obj());
    expect(d.reservations).toEqual([{ jobId: 'old', tenantId: 'a', node: 'n1' }]);
    const freed = snapshot()
      .tenants(tenant('a'), tenant('b'))
      .jobs(job('old').of('a').at(0), job('new').of('b').at(20))
      .nodes(node('n1').pods(2, 1))
      .at(31)
      .obj();
    expect(admittedIds(decide(freed))).toEqual(['old']);
  });
});

describe('decide: offload', () => {
  it.each([
    ['required', 'Offload', true],
    ['allowed', 'InsufficientCapacity', true],
    ['never', 'InsufficientCapacity', false],
  ] as const)(
    'offloadPreference %s waits with %s, offload candidate: %s',
    (pref, reason, candidate) => {
      const d = decide(
        snapshot()
          .tenants(tenant('a'))
          .jobs(job('j').gpu(1).offload(pref))
          .nodes(node('g').allocatable({ gpu: 1 }).requested({ gpu: 1 }))
          .obj(),
      );
      expect(waitingFor(d, 'j')).toMatchObject({ reason, offloadCandidate: candidate });
    },
  );
});

describe('decide: anti-starvation', () => {
  /**
   * One 4-CPU node, each minute a new 1-CPU job that runs 3 minutes, so the node never has 4
   * CPUs free unless the big job reserves it. Returns the minute the big job was admitted.
   */
  function simulate(streamTenant: 'a' | 'b', thresholdMinutes: number, cycles = 60) {
    const running: { id: string; tenantId: string; cpu: number; ends: number }[] = [
      { id: 'warm-1', tenantId: streamTenant, cpu: 1, ends: 1 },
      { id: 'warm-2', tenantId: streamTenant, cpu: 1, ends: 2 },
    ];
    const pending: PendingJob[] = [job('big').of('a').cpu(4).memory('1Gi').at(-1).obj()];
    for (let t = 0; t < cycles; t++) {
      for (let i = running.length - 1; i >= 0; i--)
        if ((running[i]?.ends ?? 0) <= t) running.splice(i, 1);
      pending.push(
        job(`s${String(t).padStart(3, '0')}`)
          .of(streamTenant)
          .cpu(1)
          .memory('0')
          .at(t)
          .obj(),
      );
      const held = (id: string) => running.filter((r) => r.tenantId === id);
      const cpu = (rs: { cpu: number }[]) => rs.reduce((s, r) => s + r.cpu, 0);
      const d = decide(
        snapshot()
          .tenants(
            ...['a', 'b'].map((id) => tenant(id).running(held(id).length, { cpu: cpu(held(id)) })),
          )
          .jobs(...pending)
          .nodes(
            node('n1')
              .allocatable({ cpu: 4, memory: '16Gi' })
              .requested({ cpu: cpu(running) }),
          )
          .at(t)
          .obj(),
        { starvationThresholdMs: thresholdMinutes * 60_000 },
      );
      for (const a of d.admitted) {
        if (a.jobId === 'big') return { admittedAt: t, starving: a.starving };
        const i = pending.findIndex((p) => p.id === a.jobId);
        const [p] = pending.splice(i, 1);
        running.push({
          id: a.jobId,
          tenantId: a.tenantId,
          cpu: (p?.resources.cpuMillis ?? 0) / 1000,
          ends: t + 3,
        });
      }
    }
    return undefined;
  }

  it.each([
    ['another tenant', 'b'],
    ['its own tenant', 'a'],
  ] as const)('admits a big old job despite a stream of small jobs from %s', (_name, stream) => {
    // Control: with the rule effectively off, the stream starves the big job for an hour.
    expect(simulate(stream, Number.POSITIVE_INFINITY)).toBeUndefined();
    const result = simulate(stream, 5);
    expect(result?.starving).toBe(true);
    // Starving from minute 4 (waited 5 minutes); the node drains within 3 more minutes.
    expect(result?.admittedAt).toBeLessThanOrEqual(4 + 3);
  });

  it('reserves the node closest to fitting and keeps backfilling the others', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a').running(1, { cpu: 1 }), tenant('b').running(5, { cpu: 5 }))
        .jobs(
          job('big').of('a').cpu(4).at(0),
          job('behind').of('a').cpu(1).at(1),
          job('b1').of('b').cpu(1).at(15),
          job('b2').of('b').cpu(1).at(16),
        )
        .nodes(
          node('n1').allocatable({ cpu: 4 }).requested({ cpu: 3 }),
          node('n2').allocatable({ cpu: 4 }).requested({ cpu: 2 }),
        )
        .at(20)
        .obj(),
      { starvationThresholdMs: 10 * 60_000 },
    );
    expect(d.reservations).toEqual([{ jobId: 'big', tenantId: 'a', node: 'n2' }]);
    expect(d.admitted).toEqual([{ jobId: 'b1', tenantId: 'b', node: 'n1', starving: false }]);
    expect(waitingFor(d, 'big')).toMatchObject({
      reason: 'InsufficientCapacity',
      message: expect.stringMatching(/node n2 is reserved for it/),
    });
    expect(waitingFor(d, 'behind')).toMatchObject({
      reason: 'WaitingForOlderJob',
      blocker: { kind: 'olderJob', jobId: 'big' },
    });
    expect(waitingFor(d, 'b2')).toMatchObject({
      reason: 'InsufficientCapacity',
      blocker: { reservation: { jobId: 'big', node: 'n2' } },
    });
  });

  it('does not reserve for a job younger than the threshold', () => {
    const snap = snapshot()
      .tenants(tenant('a'), tenant('b').running(2, { cpu: 2 }))
      .jobs(job('big').of('a').cpu(4).at(0), job('b1').of('b').cpu(1).at(1))
      .nodes(node('n1').allocatable({ cpu: 4 }).requested({ cpu: 2 }))
      .at(9)
      .obj();
    expect(
      decide(snap, { starvationThresholdMs: 10 * 60_000 }).admitted.map((a) => a.jobId),
    ).toEqual(['b1']);
    expect(decide(snap, { starvationThresholdMs: 9 * 60_000 }).admitted).toEqual([]);
  });
});

describe('decide: queue positions', () => {
  it('numbers waiting jobs per tenant and in fair-share order', () => {
    const d = decide(
      snapshot()
        .tenants(tenant('a'), tenant('b'))
        .jobs(...many('a', 3), ...many('b', 2), job('never').of('b').gpu(1))
        .nodes(node('n1').requested({ cpu: 8 }))
        .at(5)
        .obj(),
    );
    expect(d.waiting.map((w) => [w.jobId, w.position?.tenant, w.position?.global])).toEqual([
      ['a-000', 1, 1],
      ['a-001', 2, 3],
      ['a-002', 3, 5],
      ['b-000', 1, 2],
      ['never', undefined, undefined],
      ['b-001', 2, 4],
    ]);
  });
});

describe('decide: determinism', () => {
  const base = snapshot()
    .tenants(tenant('a').quota({ cpu: 6 }), tenant('b').weight(2), tenant('c').concurrency(2))
    .jobs(
      ...many('a', 8),
      ...many('b', 8, 2),
      ...many('c', 4),
      job('twin-2').of('c').cpu(1).at(100),
      job('twin-1').of('c').cpu(1).at(100),
    )
    .nodes(
      node('n3'),
      node('n1').requested({ cpu: 3 }),
      node('n2').cordoned(),
      node('n4').allocatable({ cpu: 2 }),
    )
    .at(200)
    .obj();

  /** A seeded Fisher–Yates shuffle, so the test itself is reproducible. */
  function shuffled<T>(items: readonly T[], seed: number): T[] {
    const out = [...items];
    let s = seed;
    for (let i = out.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  it.each([1, 2, 3, 42, 1234])(
    'gives the same decision whatever the input order (seed %i)',
    (seed) => {
      const reordered: Snapshot = {
        tenants: shuffled(base.tenants, seed),
        pending: shuffled(base.pending, seed + 1),
        nodes: shuffled(base.nodes, seed + 2),
        now: new Date(base.now),
      };
      expect(decide(reordered)).toEqual(decide(base));
    },
  );

  it('breaks an exact tie by job id', () => {
    const d = decide(base);
    expect(d.admitted.map((a) => a.jobId)).not.toContain('twin-2');
    const c = d.admitted.filter((a) => a.tenantId === 'c').map((a) => a.jobId);
    expect(c).toEqual(['c-000', 'c-001']);
    const tie = decide(
      snapshot()
        .tenants(tenant('c'))
        .jobs(job('twin-2').of('c').at(1), job('twin-1').of('c').at(1))
        .nodes(node('n1').allocatable({ cpu: 1 }))
        .obj(),
    );
    expect(admittedIds(tie)).toEqual(['twin-1']);
  });

  it('does not mutate the snapshot', () => {
    const copy = structuredClone(base);
    decide(base);
    expect(base).toEqual(copy);
  });

  it('uses the quantities it was given', () => {
    expect(resources({ cpu: '500m', memory: '1Gi', gpu: 1 })).toEqual({
      cpuMillis: 500,
      memoryBytes: 2 ** 30,
      gpu: 1,
    });
    expect(minutes(1).getTime() - minutes(0).getTime()).toBe(60_000);
  });
});
