import { describe, expect, it } from '@jest/globals';

import { decide } from './admission.js';
import { withAssumed } from './nodes.js';
import { job, node, resources, snapshot, tenant } from './testing.js';

const cpu = (n: number) => ({ resources: resources({ cpu: n, memory: '1Gi' }) });

describe('withAssumed', () => {
  it('adds admitted jobs whose pods are not bound yet to the first node with room', () => {
    const nodes = withAssumed(
      [node('b').obj(), node('a').requested({ cpu: 7 }).obj()],
      [cpu(2), cpu(1)],
    );
    const byName = Object.fromEntries(nodes.map((n) => [n.name, n.requested.cpuMillis]));
    // 2 CPU do not fit on a (1 free of 8), so b takes them; the 1-CPU job fills a.
    expect(byName).toEqual({ a: 8000, b: 2000 });
  });

  it('skips cordoned nodes and holds nothing for a job that fits nowhere', () => {
    const nodes = withAssumed(
      [node('a').cordoned().obj(), node('b').requested({ cpu: 8 }).obj()],
      [cpu(1)],
    );
    expect(nodes.map((n) => n.requested.cpuMillis)).toEqual([0, 8000]);
  });

  it('takes a pod slot on the node it assumes a job on, and skips nodes without one', () => {
    const nodes = withAssumed(
      [node('a').pods(2, 1).obj(), node('b').pods(3).obj()],
      [cpu(1), cpu(1), cpu(1)],
    );
    expect(nodes.map((n) => [n.name, n.pods, n.requested.cpuMillis])).toEqual([
      ['a', { allocatable: 2, used: 2 }, 1000],
      ['b', { allocatable: 3, used: 2 }, 2000],
    ]);
  });

  it('keeps admission from handing out a pod slot an admitted job already holds', () => {
    const base = snapshot()
      .tenants(tenant('a'))
      .jobs(job('next').of('a').cpu(1).memory('1Gi'))
      .nodes(node('n1').pods(1))
      .obj();
    expect(decide(base).admitted.map((a) => a.jobId)).toEqual(['next']);
    const held = { ...base, nodes: withAssumed(base.nodes, [cpu(1)]) };
    expect(decide(held).admitted).toEqual([]);
  });

  it('keeps admission from handing out room an admitted job already holds', () => {
    const base = snapshot()
      .tenants(tenant('a'))
      .jobs(job('next').of('a').cpu(4).memory('1Gi'))
      .nodes(node('n1').allocatable({ cpu: 4 }))
      .obj();
    expect(decide(base).admitted.map((a) => a.jobId)).toEqual(['next']);
    const held = { ...base, nodes: withAssumed(base.nodes, [cpu(4)]) };
    expect(decide(held).admitted).toEqual([]);
  });
});
