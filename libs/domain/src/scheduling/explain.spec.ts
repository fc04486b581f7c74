import { describe, expect, it } from '@jest/globals';

import { explain } from './explain.js';
import type { Snapshot } from './snapshot.js';
import { job, node, snapshot, tenant } from './testing.js';

describe('explain', () => {
  it.each<[string, Snapshot, RegExp, string[]]>([
    [
      'memory quota',
      snapshot()
        .tenants(tenant('a').quota({ memory: '4Gi' }).running(1, { cpu: 1, memory: '3Gi' }))
        .jobs(job('j').memory('3Gi'))
        .nodes(node('n1'))
        .obj(),
      /memory quota \(3Gi memory in use \+ 3Gi memory requested > 4Gi memory limit\)/,
      ['running jobs of tenant a releasing ≥ 2Gi memory', 'raise memory quota to ≥ 6Gi'],
    ],
    [
      'quota in millicores',
      snapshot()
        .tenants(tenant('a').quota({ cpu: '1500m' }).running(1, { cpu: '500m' }))
        .jobs(job('j').cpu('1200m'))
        .nodes(node('n1'))
        .obj(),
      /cpu quota/,
      ['running jobs of tenant a releasing ≥ 200m CPU', 'raise cpu quota to ≥ 1700m'],
    ],
    [
      'concurrency',
      snapshot()
        .tenants(tenant('a').concurrency(2).running(2, { cpu: 2 }))
        .jobs(job('j'))
        .nodes(node('n1'))
        .obj(),
      /concurrency limit \(2 of 2/,
      ['1 running job of tenant a finishing', "raise tenant a's concurrency limit to ≥ 3"],
    ],
    [
      'capacity',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu(4))
        .nodes(node('n1').requested({ cpu: 6 }), node('n2').requested({ cpu: 7 }))
        .obj(),
      /closest is n1 with 2 CPU, 32Gi memory free/,
      ['jobs on node n1 releasing ≥ 2 CPU', 'a node with ≥ 4 CPU, 1Gi memory free'],
    ],
    [
      'capacity only on a cordoned node',
      snapshot()
        .tenants(tenant('a'))
        .jobs(job('j').cpu(12))
        .nodes(node('n1'), node('n2').allocatable({ cpu: 16 }).cordoned())
        .obj(),
      /cordoned, NotReady or tainted: n2/,
      ['node n2 becoming ready and schedulable', 'a node with ≥ 12 CPU, 1Gi memory free'],
    ],
    [
      'no GPU node',
      snapshot().tenants(tenant('a')).jobs(job('j').gpu(4)).nodes(node('n1')).obj(),
      /Can never run on this cluster: requests 4 GPUs but no node has any gpu/,
      ['a node with ≥ 4 GPUs'],
    ],
    [
      'GPU quota too small',
      snapshot()
        .tenants(tenant('a').quota({ gpu: 2 }))
        .jobs(job('j').gpu(4))
        .nodes(node('g').allocatable({ gpu: 8 }))
        .obj(),
      /whole gpu quota is 2 GPUs/,
      ['raise gpu quota to ≥ 4'],
    ],
  ])('%s: says why and what would unblock it', (_name, snap, summary, unblock) => {
    const e = explain(snap, 'j');
    expect(e?.admitted).toBe(false);
    expect(e?.summary).toMatch(summary);
    expect(e?.unblock).toEqual(unblock);
  });

  it('reports queue positions in the tenant and globally', () => {
    const snap = snapshot()
      .tenants(tenant('a'), tenant('b'))
      .jobs(
        job('a1').of('a').at(0),
        job('a2').of('a').at(0.1),
        job('b1').of('b').at(0.2),
        job('b2').of('b').at(0.3),
      )
      .nodes(node('n1').requested({ cpu: 8 }))
      .at(1)
      .obj();
    expect(explain(snap, 'b2')?.position).toEqual({
      tenant: 2,
      tenantWaiting: 2,
      global: 4,
      globalWaiting: 4,
      otherTenantsAhead: 2,
    });
    expect(explain(snap, 'a2')?.position).toMatchObject({ tenant: 2, global: 3 });
  });

  it('says when a job is admitted next cycle, and nothing for unknown jobs', () => {
    const snap = snapshot().tenants(tenant('a')).jobs(job('j')).nodes(node('n1')).obj();
    expect(explain(snap, 'j')).toMatchObject({ admitted: true, node: 'n1', unblock: [] });
    expect(explain(snap, 'nope')).toBeUndefined();
  });

  it('names the starving job that holds the queue', () => {
    const snap = snapshot()
      .tenants(tenant('a').quota({ cpu: 4 }).running(1, { cpu: 2 }))
      .jobs(job('big').cpu(4).at(0), job('j').cpu(1).at(19))
      .nodes(node('n1'))
      .at(20)
      .obj();
    expect(explain(snap, 'j')).toMatchObject({
      reason: 'WaitingForOlderJob',
      unblock: ['job big of tenant a being admitted'],
    });
  });
});

describe('explain, seen by the job’s tenant', () => {
  /** `acme-big` (tenant acme) has starved past the threshold and reserves n2; bolt waits. */
  const snap = snapshot()
    .tenants(tenant('acme').running(1, { cpu: 1 }), tenant('bolt').running(5, { cpu: 5 }))
    .jobs(
      job('acme-big').of('acme').cpu(4).at(0),
      job('bolt-1').of('bolt').cpu(1).at(15),
      job('bolt-2').of('bolt').cpu(1).at(16),
    )
    .nodes(
      node('n1').allocatable({ cpu: 4 }).requested({ cpu: 3 }),
      node('n2').allocatable({ cpu: 4 }).requested({ cpu: 2 }),
    )
    .at(20)
    .obj();

  it("never names another tenant's job or the tenant itself", () => {
    const e = explain(snap, 'bolt-2');
    expect(e).toMatchObject({
      reason: 'InsufficientCapacity',
      blocker: { kind: 'capacity', reservation: { node: 'n2' } },
    });
    expect(e?.summary).toMatch(
      /node n2 has room but is reserved for a starving job of another tenant/,
    );
    expect(e?.unblock).toContain(
      'the starving job of another tenant reserving node n2 being admitted',
    );
    expect(JSON.stringify(e)).not.toMatch(/acme/);
  });

  it('names its own reservation in full', () => {
    expect(explain(snap, 'acme-big')?.blocker).toMatchObject({
      reservation: { jobId: 'acme-big', tenantId: 'acme', node: 'n2' },
    });
  });

  it('counts the jobs of other tenants ahead, without naming them', () => {
    const queue = snapshot()
      .tenants(tenant('acme'), tenant('bolt'))
      .jobs(
        job('acme-1').of('acme').at(0),
        job('acme-2').of('acme').at(0.1),
        job('bolt-1').of('bolt').at(0.2),
        job('bolt-2').of('bolt').at(0.3),
      )
      .nodes(node('n1').requested({ cpu: 8 }))
      .at(1)
      .obj();
    const e = explain(queue, 'bolt-2');
    expect(e?.position).toEqual({
      tenant: 2,
      tenantWaiting: 2,
      global: 4,
      globalWaiting: 4,
      otherTenantsAhead: 2,
    });
    expect(e?.summary).toMatch(/; 2 jobs of other tenants ahead by fair share$/);
    expect(JSON.stringify(e)).not.toMatch(/acme/);
  });
});
