import { describe, expect, it } from '@jest/globals';

import { decide } from './admission.js';
import { preempt } from './preemption.js';
import type { Snapshot } from './snapshot.js';
import { job, node, snapshot, tenant } from './testing.js';

const roomy = () => node('n1').allocatable({ cpu: 64, memory: '256Gi', gpu: 16 });

const victims = (s: Snapshot, maxPreemptions?: number): string[] =>
  preempt(s, decide(s), maxPreemptions === undefined ? {} : { maxPreemptions }).map(
    (p) => `${p.jobId}:${p.reason}:by ${p.by.jobId}`,
  );

describe('preempt: reclaiming a guarantee and priority within a tenant', () => {
  it.each<[string, Snapshot, string[]]>([
    [
      "reclaim: the owner's job fits its guarantee, the pool is short because a borrowed: a's newest job goes",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4 })
            .cohort('c')
            .runningJob('a-old', { cpu: 4 }, { at: 0 })
            .runningJob('a-new', { cpu: 4 }, { at: 5 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(4))
        .nodes(roomy())
        .at(10)
        .obj(),
      ['a-new:ReclaimGuarantee:by b1'],
    ],
    [
      'reclaim: lowest priority first, before newest',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4 })
            .cohort('c')
            .runningJob('a-low', { cpu: 4 }, { at: 0, priority: -100 })
            .runningJob('a-high', { cpu: 4 }, { at: 5, priority: 100 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(2))
        .nodes(roomy())
        .at(10)
        .obj(),
      ['a-low:ReclaimGuarantee:by b1'],
    ],
    [
      'reclaim: as many borrowed jobs as it takes to fit',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 2 })
            .cohort('c')
            .runningJob('a1', { cpu: 2 }, { at: 0 })
            .runningJob('a2', { cpu: 2 }, { at: 1 })
            .runningJob('a3', { cpu: 2 }, { at: 2 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(4))
        .nodes(roomy())
        .at(10)
        .obj(),
      ['a3:ReclaimGuarantee:by b1', 'a2:ReclaimGuarantee:by b1'],
    ],
    [
      'reclaim stops taking from a member once it is back within its guarantee',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4 })
            .cohort('c')
            .runningJob('a-big', { cpu: 4 }, { at: 8 })
            .runningJob('a-small', { cpu: 1 }, { at: 9 }),
          tenant('d')
            .quota({ cpu: 4 })
            .cohort('c')
            .runningJob('d-old', { cpu: 4 }, { at: 0 })
            .runningJob('d-mid', { cpu: 3 }, { at: 5 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(4))
        .nodes(roomy())
        .at(10)
        .obj(),
      // a borrowed 1 CPU, d 3: a-big is newer than d-mid but a is within its guarantee once
      // a-small goes.
      ['a-small:ReclaimGuarantee:by b1', 'd-mid:ReclaimGuarantee:by b1'],
    ],
    [
      'no reclaim for a job beyond its own guarantee: that would be borrowing by force',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').runningJob('a1', { cpu: 8 }),
          tenant('b').quota({ cpu: 4 }).cohort('c').runningJob('b0', { cpu: 2 }),
        )
        .jobs(job('b1').of('b').cpu(4))
        .nodes(roomy())
        .at(10)
        .obj(),
      [],
    ],
    [
      'a borrowed job that frees nothing the waiting job needs is left alone',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4, gpu: 1 })
            .cohort('c')
            .runningJob('a-gpu', { gpu: 2 }, { at: 9 })
            .runningJob('a-cpu', { cpu: 7 }, { at: 1 }),
          tenant('b').quota({ cpu: 4, gpu: 1 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(2))
        .nodes(roomy())
        .at(10)
        .obj(),
      ['a-cpu:ReclaimGuarantee:by b1'],
    ],
    [
      'two reclaimers never share a victim, and the second counts what the first takes',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 2 })
            .cohort('c')
            .runningJob('a1', { cpu: 2 }, { at: 0 })
            .runningJob('a2', { cpu: 2 }, { at: 1 })
            .runningJob('a3', { cpu: 2 }, { at: 2 }),
          tenant('b').quota({ cpu: 2 }).cohort('c'),
          tenant('d').quota({ cpu: 2 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(2), job('d1').of('d').cpu(2))
        .nodes(roomy())
        .at(10)
        .obj(),
      ['a3:ReclaimGuarantee:by b1', 'a2:ReclaimGuarantee:by d1'],
    ],
    [
      'no reclaim across cohorts',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').runningJob('a1', { cpu: 4 }),
          tenant('x').quota({ cpu: 4 }).runningJob('x1', { cpu: 4 }),
          tenant('b').quota({ cpu: 4 }).cohort('d').runningJob('b0', { cpu: 4 }),
        )
        .jobs(job('b1').of('b').cpu(2))
        .nodes(roomy())
        .at(10)
        .obj(),
      [],
    ],
    [
      "priority: at its quota, a tenant's higher-priority job evicts its own lowest, newest job",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4 })
            .runningJob('a-normal', { cpu: 2 }, { at: 0, priority: 0 })
            .runningJob('a-low-old', { cpu: 1 }, { at: 1, priority: -100 })
            .runningJob('a-low-new', { cpu: 1 }, { at: 2, priority: -100 }),
        )
        .jobs(job('a-high').priority(100).cpu(1))
        .nodes(roomy())
        .at(10)
        .obj(),
      ['a-low-new:HigherPriority:by a-high'],
    ],
    [
      'priority: equal priority never preempts',
      snapshot()
        .tenants(tenant('a').quota({ cpu: 4 }).runningJob('a1', { cpu: 4 }, { priority: 100 }))
        .jobs(job('a2').priority(100).cpu(1))
        .nodes(roomy())
        .at(10)
        .obj(),
      [],
    ],
    [
      'priority: not when every lower job together frees too little',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4 })
            .runningJob('a-high', { cpu: 3 }, { priority: 100 })
            .runningJob('a-low', { cpu: 1 }, { priority: -100 }),
        )
        .jobs(job('a2').priority(50).cpu(3))
        .nodes(roomy())
        .at(10)
        .obj(),
      [],
    ],
    [
      "priority never reaches another tenant's jobs",
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).runningJob('a1', { cpu: 4 }, { priority: 100 }),
          tenant('b').quota({ cpu: 4 }).runningJob('b-low', { cpu: 4 }, { priority: -100 }),
        )
        .jobs(job('a2').priority(50).cpu(1))
        .nodes(roomy())
        .at(10)
        .obj(),
      [],
    ],
    [
      'nothing to preempt when the job is admitted',
      snapshot()
        .tenants(tenant('a').quota({ cpu: 4 }).runningJob('a1', { cpu: 1 }, { priority: -100 }))
        .jobs(job('a2').priority(100).cpu(1))
        .nodes(roomy())
        .at(10)
        .obj(),
      [],
    ],
  ])('%s', (_, s, expected) => {
    expect(victims(s)).toEqual(expected);
  });

  it('stops at the per-cycle bound rather than preempting part of what a job needs', () => {
    const s = snapshot()
      .tenants(
        tenant('a')
          .quota({ cpu: 2 })
          .cohort('c')
          .runningJob('a1', { cpu: 2 }, { at: 0 })
          .runningJob('a2', { cpu: 2 }, { at: 1 })
          .runningJob('a3', { cpu: 2 }, { at: 2 }),
        tenant('b').quota({ cpu: 4 }).cohort('c'),
      )
      .jobs(job('b1').of('b').cpu(4))
      .nodes(roomy())
      .at(10)
      .obj();
    expect(victims(s, 1)).toEqual([]);
    expect(victims(s, 2)).toHaveLength(2);
  });

  it('says who preempted whom and why', () => {
    const s = snapshot()
      .tenants(
        tenant('a').quota({ gpu: 4 }).cohort('research').runningJob('a1', { cpu: 1, gpu: 8 }),
        tenant('b').quota({ gpu: 4 }).cohort('research'),
      )
      .jobs(job('b1').of('b').cpu(1).gpu(4))
      .nodes(roomy())
      .at(10)
      .obj();
    const [p] = preempt(s, decide(s));
    expect(p).toEqual({
      jobId: 'a1',
      tenantId: 'a',
      reason: 'ReclaimGuarantee',
      by: { jobId: 'b1', tenantId: 'b', priority: 0 },
      message:
        'Preempted by job b1 of tenant b reclaiming its guaranteed gpu quota, which this job had borrowed; requeued without using a retry',
    });
  });

  it('costs nothing when no tenant reports its running jobs', () => {
    const s = snapshot()
      .tenants(tenant('a').quota({ cpu: 4 }).cohort('c').running(2, { cpu: 8 }))
      .tenants(tenant('b').quota({ cpu: 4 }).cohort('c'))
      .jobs(job('b1').of('b').cpu(2))
      .nodes(roomy())
      .obj();
    expect(preempt(s, decide(s))).toEqual([]);
  });
});

/** A 4-CPU node with `cpu` of it requested. */
const small = (name: string, cpu: number) =>
  node(name).allocatable({ cpu: 4, memory: '16Gi' }).requested({ cpu });

const cpuOnly = (cpu: number) => ({ cpuMillis: cpu * 1000, memoryBytes: 0, gpu: 0 });

const withNodes = (s: Snapshot): string[] =>
  preempt(s, decide(s)).map(
    (p) => `${p.jobId}:${p.reason}:by ${p.by.jobId} on ${(p.nodes ?? []).join(',')}`,
  );

describe('preempt: room on nodes when the quota has room but the nodes are full', () => {
  it.each<[string, Snapshot, string[]]>([
    [
      "priority: the tenant's own lower-priority job on the full node goes, the newest first",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 16 })
            .runningJob('a-low1', { cpu: 2 }, { at: 0, priority: -100, on: 'n1' })
            .runningJob('a-low2', { cpu: 2 }, { at: 1, priority: -100, on: 'n1' }),
        )
        .jobs(job('a-high').priority(100).cpu(2))
        .nodes(small('n1', 4))
        .at(10)
        .obj(),
      ['a-low2:HigherPriority:by a-high on n1'],
    ],
    [
      'the node that needs the fewest victims, not the cheapest victim elsewhere',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 16 })
            .runningJob('a-n1-x', { cpu: 1 }, { at: 0, priority: -200, on: 'n1' })
            .runningJob('a-n1-y', { cpu: 1 }, { at: 1, priority: -200, on: 'n1' })
            .runningJob('a-n2', { cpu: 2 }, { at: 2, priority: -100, on: 'n2' }),
        )
        .jobs(job('a-high').priority(100).cpu(2))
        .nodes(
          node('n1').allocatable({ cpu: 2, memory: '8Gi' }).requested({ cpu: 2 }),
          node('n2').allocatable({ cpu: 2, memory: '8Gi' }).requested({ cpu: 2 }),
        )
        .at(10)
        .obj(),
      ['a-n2:HigherPriority:by a-high on n2'],
    ],
    [
      "flavor: only victims on a node of the job's GPU type, though a lower one runs elsewhere",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 1000, gpu: 100 })
            .runningJob('a-l4-old', { cpu: 4, gpu: 4 }, { at: 0, on: 'l4', gpuType: 'nvidia-l4' })
            .runningJob('a-l4-new', { cpu: 4, gpu: 4 }, { at: 1, on: 'l4', gpuType: 'nvidia-l4' })
            .runningJob(
              'a-h100',
              { cpu: 8, gpu: 8 },
              { at: 2, priority: -500, on: 'h100', gpuType: 'nvidia-h100-80gb' },
            ),
        )
        .jobs(job('a-high').priority(100).cpu(4).gpu(4).gpuType('nvidia-l4'))
        .nodes(
          node('l4').accelerator('nvidia-l4', 8).requested({ cpu: 8, gpu: 8 }),
          node('h100').accelerator('nvidia-h100-80gb', 8).requested({ cpu: 8, gpu: 8 }),
        )
        .at(10)
        .obj(),
      ['a-l4-new:HigherPriority:by a-high on l4'],
    ],
    [
      'capacity: a spot-only job evicts only on spot nodes',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 16 })
            .runningJob('a-od', { cpu: 4 }, { at: 5, priority: -200, on: 'od' })
            .runningJob('a-spot', { cpu: 4 }, { at: 0, priority: -100, on: 'spot' }),
        )
        .jobs(job('a-high').priority(100).cpu(4).capacity('spot'))
        .nodes(small('od', 4), small('spot', 4).spot())
        .at(10)
        .obj(),
      ['a-spot:HigherPriority:by a-high on spot'],
    ],
    [
      'pod slots: a node full of pods, not of CPU, is made room on too',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 16 })
            .runningJob('a-low', { cpu: 1 }, { priority: -100, on: 'n1' })
            .runningJob('a-normal', { cpu: 1 }, { priority: 0, on: 'n1' }),
        )
        .jobs(job('a-high').priority(100).cpu(1))
        .nodes(small('n1', 2).pods(2, 2))
        .at(10)
        .obj(),
      ['a-low:HigherPriority:by a-high on n1'],
    ],
    [
      "never another tenant's work that is not borrowed, and nothing when the rest frees too little",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 16 })
            .runningJob('a-low', { cpu: 1 }, { priority: -100, on: 'n1' }),
          tenant('b')
            .quota({ cpu: 16 })
            .runningJob('b-low', { cpu: 3 }, { priority: -100, on: 'n1' }),
        )
        .jobs(job('a-high').priority(100).cpu(2))
        .nodes(small('n1', 4))
        .at(10)
        .obj(),
      [],
    ],
    [
      'equal priority never makes room',
      snapshot()
        .tenants(tenant('a').quota({ cpu: 16 }).runningJob('a1', { cpu: 4 }, { on: 'n1' }))
        .jobs(job('a2').cpu(2))
        .nodes(small('n1', 4))
        .at(10)
        .obj(),
      [],
    ],
    [
      "reclaim: another member's borrowed job on the only node the job's selector allows",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 2 })
            .cohort('c')
            .runningJob('a-old', { cpu: 2 }, { at: 0, on: 'x' })
            .runningJob('a-new', { cpu: 2 }, { at: 1, on: 'x' }),
          tenant('b').quota({ cpu: 6 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(2).selector({ zone: 'x' }))
        .nodes(small('x', 4).label('zone', 'x'), small('y', 0).label('zone', 'y'))
        .at(10)
        .obj(),
      ['a-new:ReclaimGuarantee:by b1 on x'],
    ],
    [
      'no reclaim by node from a member within its guarantee',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 4 })
            .cohort('c')
            .runningJob('a-old', { cpu: 2 }, { at: 0, on: 'x' })
            .runningJob('a-new', { cpu: 2 }, { at: 1, on: 'x' }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(2).selector({ zone: 'x' }))
        .nodes(small('x', 4).label('zone', 'x'), small('y', 0).label('zone', 'y'))
        .at(10)
        .obj(),
      [],
    ],
    [
      'a gang: victims until every pod fits, then none it does not need (the cheapest was elsewhere)',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 64 })
            .runningJob('a-other', { cpu: 4 }, { at: 5, priority: -200, on: 'n3' })
            .runningJob('a-1', { cpu: 4 }, { at: 1, priority: -100, on: 'n1' })
            .runningJob('a-2', { cpu: 4 }, { at: 0, priority: -100, on: 'n2' })
            .runningJob('a-3', { cpu: 2 }, { at: 0, priority: 50, on: 'n2' }),
        )
        .jobs(
          job('gang')
            .priority(100)
            .cpu(8)
            .selector({ pool: 'main' })
            .pods('workers', 2, { cpu: 4 }),
        )
        .nodes(
          node('n1').allocatable({ cpu: 4 }).requested({ cpu: 4 }).label('pool', 'main'),
          node('n2').allocatable({ cpu: 6 }).requested({ cpu: 6 }).label('pool', 'main'),
          node('n3').allocatable({ cpu: 4 }).requested({ cpu: 4 }).label('pool', 'other'),
        )
        .at(10)
        .obj(),
      ['a-1:HigherPriority:by gang on n1,n2', 'a-2:HigherPriority:by gang on n1,n2'],
    ],
    [
      "two waiting jobs never count on the same room: b's job sees a's booked where a-low was",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ cpu: 16 })
            .runningJob('a-low', { cpu: 4 }, { priority: -100, on: 'n1' }),
          tenant('b')
            .quota({ cpu: 16 })
            .runningJob('b-low', { cpu: 2 }, { priority: -100, on: 'n1' }),
        )
        .jobs(job('a-high').priority(100).cpu(4), job('b-high').of('b').priority(100).cpu(4))
        .nodes(node('n1').allocatable({ cpu: 6, memory: '16Gi' }).requested({ cpu: 6 }))
        .at(10)
        .obj(),
      ['a-low:HigherPriority:by a-high on n1'],
    ],
  ])('%s', (_, s, expected) => {
    expect(withNodes(s)).toEqual(expected);
  });

  // a's waiting job has nothing it may evict (a0 is of its priority); b's has b-low.
  const full = () =>
    snapshot()
      .tenants(
        tenant('a').quota({ cpu: 16 }).runningJob('a0', { cpu: 4 }, { priority: 100, on: 'n1' }),
        tenant('b')
          .quota({ cpu: 16 })
          .runningJob('b-low', { cpu: 4 }, { priority: -100, on: 'n2' }),
      )
      .jobs(job('a1').priority(100).cpu(4), job('b-high').of('b').priority(100).cpu(4))
      .nodes(small('n1', 4), small('n2', 4))
      .at(10);

  it('searches only jobs that have a victim, at most maxNodeSearches of them', () => {
    const s = full().obj();
    // a1 ranks first but has nothing it may evict: it does not use up the one search.
    expect(preempt(s, decide(s), { maxNodeSearches: 1 }).map((p) => p.jobId)).toEqual(['b-low']);
    expect(preempt(s, decide(s), { maxNodeSearches: 0 })).toEqual([]);
  });

  it('says it made room on which node for which job', () => {
    const s = full().obj();
    expect(preempt(s, decide(s))).toEqual([
      {
        jobId: 'b-low',
        tenantId: 'b',
        reason: 'HigherPriority',
        by: { jobId: 'b-high', tenantId: 'b', priority: 100 },
        nodes: ['n2'],
        message:
          'Preempted to make room on node n2 for job b-high of tenant b, with higher priority (100 > -100): its quota had room but those nodes were full; requeued without using a retry',
      },
    ]);
  });

  it('leaves a job whose pods are not bound yet alone (only quota rules may take it)', () => {
    const s = snapshot()
      .tenants(tenant('a').quota({ cpu: 16 }).runningJob('a-low', { cpu: 4 }, { priority: -100 }))
      .jobs(job('a-high').priority(100).cpu(4))
      .nodes(small('n1', 4))
      .at(10)
      .obj();
    expect(preempt(s, decide(s))).toEqual([]);
  });
});

describe('preempt: GPU type quotas', () => {
  const l4 = () => node('l4').accelerator('nvidia-l4', 8);

  it.each<[string, Snapshot, string[]]>([
    [
      'at its nvidia-l4 quota: the lowest job holding L4s goes, not a lower one on another type',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ gpu: 100 })
            .gpuQuota('nvidia-l4', 4)
            .runningJob('a-l4', { gpu: 4 }, { priority: -100, gpuType: 'nvidia-l4' })
            .runningJob('a-h100', { gpu: 4 }, { priority: -200, gpuType: 'nvidia-h100-80gb' })
            .runningJob('a-any', { gpu: 4 }, { priority: -300 }),
        )
        .jobs(job('a-high').priority(100).gpu(4).gpuType('nvidia-l4'))
        .nodes(l4())
        .at(10)
        .obj(),
      ['a-l4:HigherPriority:by a-high'],
    ],
    [
      'not when its lower-priority L4 jobs together free too little',
      snapshot()
        .tenants(
          tenant('a')
            .quota({ gpu: 100 })
            .gpuQuota('nvidia-l4', 4)
            .runningJob('a-l4-low', { gpu: 2 }, { priority: -100, gpuType: 'nvidia-l4' })
            .runningJob('a-l4-top', { gpu: 2 }, { priority: 200, gpuType: 'nvidia-l4' }),
        )
        .jobs(job('a-high').priority(100).gpu(4).gpuType('nvidia-l4'))
        .nodes(l4())
        .at(10)
        .obj(),
      [],
    ],
    [
      "a type's quota is the tenant's own cap: no reclaim from another member for it",
      snapshot()
        .tenants(
          tenant('a')
            .quota({ gpu: 4 })
            .cohort('c')
            .gpuQuota('nvidia-l4', 2)
            .runningJob('a-l4', { gpu: 2 }, { gpuType: 'nvidia-l4' }),
          tenant('b')
            .quota({ gpu: 4 })
            .cohort('c')
            .runningJob('b-l4', { gpu: 6 }, { gpuType: 'nvidia-l4' }),
        )
        .jobs(job('a2').of('a').gpu(2).gpuType('nvidia-l4'))
        .nodes(l4())
        .at(10)
        .obj(),
      [],
    ],
  ])('%s', (_, s, expected) => {
    expect(victims(s)).toEqual(expected);
  });

  it('names the type in the message', () => {
    const s = snapshot()
      .tenants(
        tenant('a')
          .quota({ gpu: 100 })
          .gpuQuota('nvidia-l4', 4)
          .runningJob('a-l4', { gpu: 4 }, { priority: -100, gpuType: 'nvidia-l4' }),
      )
      .jobs(job('a-high').priority(100).gpu(4).gpuType('nvidia-l4'))
      .nodes(l4())
      .at(10)
      .obj();
    expect(preempt(s, decide(s))[0]?.message).toBe(
      "Preempted by job a-high of tenant a with higher priority (100 > -100) at the tenant's nvidia-l4 gpu quota; requeued without using a retry",
    );
  });
});

describe('preempt: room on nodes, TPU slices and reclaim messages', () => {
  it("a TPU job evicts only on a host of its slice's type and topology", () => {
    const s = snapshot()
      .tenants(
        tenant('a')
          .quota({ cpu: 64 })
          .runningJob('a-2x2', { cpu: 1 }, { at: 0, priority: -100, on: 'host-2x2' })
          .runningJob('a-2x4', { cpu: 1 }, { at: 5, priority: -200, on: 'host-2x4' }),
      )
      .jobs(job('a-high').priority(100).cpu(1).tpu('tpu-v5-lite-podslice', '2x2'))
      .nodes(
        node('host-2x2').tpuHost('tpu-v5-lite-podslice', '2x2', 4).tpuInUse(4),
        node('host-2x4').tpuHost('tpu-v5-lite-podslice', '2x4', 8).tpuInUse(8),
      )
      .at(10)
      .obj();
    // The running jobs' pods hold the hosts' chips.
    for (const j of s.tenants[0]?.runningJobs ?? []) {
      const pod = j.pods?.[0];
      if (pod) pod.resources.tpu = j.id === 'a-2x2' ? 4 : 8;
    }
    expect(withNodes(s)).toEqual(['a-2x2:HigherPriority:by a-high on host-2x2']);
  });

  it('says a reclaim by node was for room on which node', () => {
    const s = snapshot()
      .tenants(
        tenant('a')
          .quota({ cpu: 2 })
          .cohort('c')
          .runningJob('a-old', { cpu: 2 }, { at: 0, on: 'x' })
          .runningJob('a-new', { cpu: 2 }, { at: 1, on: 'x' }),
        tenant('b').quota({ cpu: 6 }).cohort('c'),
      )
      .jobs(job('b1').of('b').cpu(2).selector({ zone: 'x' }))
      .nodes(small('x', 4).label('zone', 'x'), small('y', 0).label('zone', 'y'))
      .at(10)
      .obj();
    expect(preempt(s, decide(s)).map((p) => p.message)).toEqual([
      "Preempted to make room on node x for job b1 of tenant b, within its tenant's guaranteed quota, while this job ran on borrowed quota: its quota had room but those nodes were full; requeued without using a retry",
    ]);
  });

  it('evicts nothing more while an earlier victim’s pods are on their way out of the node', () => {
    const base = snapshot()
      .tenants(
        tenant('a')
          .quota({ cpu: 16 })
          .runningJob('a-low', { cpu: 2 }, { at: 0, priority: -100, on: 'n1' }),
      )
      .jobs(job('a-high').priority(100).cpu(2))
      // 4 CPU requested: a-low's 2 and 2 of a job preempted last cycle, still terminating.
      .nodes(small('n1', 4))
      .at(10)
      .obj();
    expect(withNodes(base)).toEqual(['a-low:HigherPriority:by a-high on n1']);
    const releasing = { ...base, releasing: [{ node: 'n1', resources: cpuOnly(2) }] };
    expect(withNodes(releasing)).toEqual([]);
  });

  it('a gang evicts nothing when the room on its way back is enough', () => {
    const base = snapshot()
      .tenants(
        tenant('a')
          .quota({ cpu: 16 })
          .runningJob('a-low', { cpu: 2 }, { at: 0, priority: -100, on: 'n1' }),
      )
      .jobs(job('a-gang').priority(100).pods('w', 2, { cpu: 1 }))
      .nodes(small('n1', 4))
      .at(10)
      .obj();
    expect(withNodes(base)).toEqual(['a-low:HigherPriority:by a-gang on n1']);
    const releasing = { ...base, releasing: [{ node: 'n1', resources: cpuOnly(2) }] };
    expect(withNodes(releasing)).toEqual([]);
  });

  it("takes another member's job only for borrowing of a resource the waiting job needs", () => {
    // b is beyond its guarantee in GPUs only; a's job asks for CPU alone.
    const s = snapshot()
      .tenants(
        tenant('a').quota({ cpu: 4 }).cohort('c'),
        tenant('b')
          .quota({ cpu: 4, gpu: 1 })
          .cohort('c')
          .runningJob('b-gpu', { cpu: 2, gpu: 2 }, { at: 0, on: 'g' }),
      )
      .jobs(job('a1').of('a').cpu(2))
      .nodes(
        node('g').allocatable({ cpu: 2, memory: '16Gi', gpu: 2 }).requested({ cpu: 2, gpu: 2 }),
      )
      .at(10)
      .obj();
    expect(withNodes(s)).toEqual([]);
  });

  it('does not search room on nodes for a multi-host TPU slice (a slice takes a pool of its own)', () => {
    const host = (name: string) => node(name).tpuHost('tpu-v5-lite-podslice', '4x4', 4).pool('p1');
    const s = snapshot()
      .tenants(
        tenant('a')
          .quota({ cpu: 64 })
          .runningJob('a-low', { cpu: 1 }, { at: 0, priority: -100, on: 'p1-0' }),
      )
      .jobs(job('a-high').priority(100).cpu(1).tpu('tpu-v5-lite-podslice', '4x4'))
      .nodes(host('p1-0').tpuInUse(4), host('p1-1'), host('p1-2'), host('p1-3'))
      .at(10)
      .obj();
    const low = s.tenants[0]?.runningJobs?.[0]?.pods?.[0];
    if (low) low.resources.tpu = 4;
    expect(withNodes(s)).toEqual([]);
  });
});
