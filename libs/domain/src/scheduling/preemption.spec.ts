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
