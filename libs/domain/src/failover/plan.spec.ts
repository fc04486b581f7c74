import { describe, expect, it } from '@jest/globals';

import { buildPlan, chooseRepairNode, findLeaderPod } from './plan.js';
import { jobsetPod, pod, request, tpuNodes } from './testing.js';
import type { FailoverSnapshot, JobSetFacts } from './types.js';

const jobset: JobSetFacts = {
  namespace: 'default',
  name: 'train',
  restarts: 1,
  replicatedJobs: ['workers', 'driver'],
  finished: false,
};

function snapshot(overrides: Partial<FailoverSnapshot> = {}): FailoverSnapshot {
  return {
    nodes: tpuNodes('tpu', 4),
    pods: [
      pod('web', 'tpu-1'),
      pod('done', 'tpu-2', {}, 'Succeeded'),
      pod('elsewhere', 'cpu-0'),
      jobsetPod('train', 'workers', 0, 1, 'tpu-0'),
      jobsetPod('train', 'workers', 1, 1, 'tpu-1'),
    ],
    roamJobs: [
      { jobId: 'j2', tenantId: 'beta', name: 'b', status: 'running', node: 'tpu-3' },
      { jobId: 'j1', tenantId: 'acme', name: 'a', status: 'running', node: 'tpu-0' },
      { jobId: 'j3', tenantId: 'acme', name: 'c', status: 'running', node: 'cpu-0' },
    ],
    jobset,
    instances: tpuNodes('tpu', 4).map((n) => ({
      name: n.name,
      zone: 'us-a',
      id: `id-${n.name}`,
      group: 'gke-c-tpu-grp',
      status: 'RUNNING',
    })),
    ...overrides,
  };
}

const ok = (result: ReturnType<typeof buildPlan>) => {
  if (!result.ok) throw new Error(`expected a plan, got ${result.error}`);
  return result.plan;
};

describe('buildPlan', () => {
  it('cordon_nodepool: one step over every node, with pods and roam jobs (and tenants) on them', () => {
    const plan = ok(buildPlan(request(), snapshot()));
    expect(plan.steps).toEqual([
      { name: 'cordon_nodes', nodes: ['tpu-0', 'tpu-1', 'tpu-2', 'tpu-3'] },
    ]);
    expect(plan.pods.map((p) => p.name)).toEqual([
      'train-workers-0-0-a1',
      'train-workers-1-0-a1',
      'web',
    ]);
    expect(plan.roamJobs.map((j) => j.jobId)).toEqual(['j1', 'j2']);
    expect(plan.tenants).toEqual(['acme', 'beta']);
    expect(plan.poolCordoned).toBe(true);
    expect(plan.preflight).toEqual(
      expect.objectContaining({ checked: true, expected: 4, found: 4 }),
    );
  });

  it('cordon_nodepool_and_restart_jobset: cordons, then deletes the leader of the current attempt', () => {
    const stale = jobsetPod('train', 'workers', 0, 0, 'tpu-2');
    const plan = ok(
      buildPlan(
        request({ type: 'cordon_nodepool_and_restart_jobset', jobsetName: 'train' }),
        snapshot({ pods: [...snapshot().pods, stale] }),
      ),
    );
    expect(plan.steps.map((s) => s.name)).toEqual(['cordon_nodes', 'restart_jobset']);
    expect(plan.jobset?.leaderPod).toEqual({
      namespace: 'default',
      name: 'train-workers-0-0-a1',
      uid: 'uid-train-workers-0-0-a1',
      node: 'tpu-0',
    });
  });

  it('refuses a restart without the JobSet, when it finished, or without a leader', () => {
    const restart = request({ type: 'cordon_nodepool_and_restart_jobset', jobsetName: 'train' });
    expect(buildPlan(restart, snapshot({ jobset: undefined }))).toEqual({
      ok: false,
      error: 'JobSet default/train not found',
    });
    expect(buildPlan(restart, snapshot({ jobset: { ...jobset, finished: true } }))).toEqual(
      expect.objectContaining({ ok: false, error: expect.stringContaining('finished') }),
    );
    expect(buildPlan(restart, snapshot({ jobset: { ...jobset, restarts: 2 } }))).toEqual(
      expect.objectContaining({ ok: false, error: expect.stringContaining('no running leader') }),
    );
  });

  it('cordon_and_repair_nodepool: cordons every node, deletes the requested node’s instance', () => {
    const plan = ok(
      buildPlan(request({ type: 'cordon_and_repair_nodepool', nodeName: 'tpu-2' }), snapshot()),
    );
    expect(plan.steps).toEqual([
      { name: 'cordon_nodes', nodes: ['tpu-0', 'tpu-1', 'tpu-2', 'tpu-3'] },
      {
        name: 'delete_instance',
        node: 'tpu-2',
        instance: {
          name: 'tpu-2',
          zone: 'us-a',
          id: 'id-tpu-2',
          group: 'gke-c-tpu-grp',
          status: 'RUNNING',
        },
      },
    ]);
    expect(plan.nodes).toHaveLength(4);
  });

  it('repair_nodepool: touches only the repaired node and does not change schedulability', () => {
    const nodes = tpuNodes('tpu', 4).map((n) => (n.name === 'tpu-3' ? { ...n, ready: false } : n));
    const plan = ok(buildPlan(request({ type: 'repair_nodepool' }), snapshot({ nodes })));
    expect(plan.steps).toEqual([
      expect.objectContaining({ name: 'delete_instance', node: 'tpu-3' }),
    ]);
    expect(plan.nodes.map((n) => n.name)).toEqual(['tpu-3']);
    expect(plan.roamJobs.map((j) => j.jobId)).toEqual(['j2']);
    expect(plan.poolCordoned).toBeNull();
  });

  it('refuses a repair of a node outside the pool or without an instance', () => {
    expect(buildPlan(request({ type: 'repair_nodepool', nodeName: 'cpu-0' }), snapshot())).toEqual(
      expect.objectContaining({
        ok: false,
        error: expect.stringContaining('node cpu-0 is not in the node pool'),
      }),
    );
    expect(buildPlan(request({ type: 'repair_nodepool' }), snapshot({ instances: [] }))).toEqual(
      expect.objectContaining({
        ok: false,
        error: expect.stringContaining('no compute instance named tpu-0'),
      }),
    );
  });

  it('uncordon_nodepool: one uncordon step over every node', () => {
    const plan = ok(buildPlan(request({ type: 'uncordon_nodepool' }), snapshot()));
    expect(plan.steps).toEqual([
      { name: 'uncordon_nodes', nodes: ['tpu-0', 'tpu-1', 'tpu-2', 'tpu-3'] },
    ]);
    expect(plan.poolCordoned).toBe(false);
  });

  it('refuses when preflight fails, carrying expected and found', () => {
    expect(buildPlan(request(), snapshot({ nodes: tpuNodes('tpu', 2) }))).toEqual(
      expect.objectContaining({ ok: false, expected: 4, found: 2 }),
    );
  });

  it('refuses an empty pool even without preflight', () => {
    expect(buildPlan(request({ expectedNodeCount: false }), snapshot({ nodes: [] }))).toEqual({
      ok: false,
      error: 'node pool tpu has no nodes',
    });
  });
});

describe('chooseRepairNode', () => {
  it('prefers the requested node, then the first NotReady, then the first by name', () => {
    const nodes = tpuNodes('p', 3);
    expect(chooseRepairNode(nodes, 'p-1')).toEqual({ node: 'p-1' });
    expect(chooseRepairNode(nodes, null)).toEqual({ node: 'p-0' });
    expect(
      chooseRepairNode(
        nodes.map((n) => ({ ...n, ready: n.name !== 'p-2' })),
        null,
      ),
    ).toEqual({
      node: 'p-2',
    });
  });
});

describe('findLeaderPod', () => {
  it('takes job-index 0 of the first replicated job of the current attempt', () => {
    const pods = [
      jobsetPod('train', 'driver', 0, 1, 'n1'),
      jobsetPod('train', 'workers', 0, 1, 'n2'),
      jobsetPod('train', 'workers', 0, 0, 'n3'),
      jobsetPod('other', 'workers', 0, 1, 'n4'),
    ];
    expect(findLeaderPod(jobset, pods)?.node).toBe('n2');
    expect(
      findLeaderPod(jobset, [jobsetPod('train', 'workers', 0, 1, 'n2', 'Failed')]),
    ).toBeUndefined();
  });
});
