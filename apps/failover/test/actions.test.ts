import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import type { RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { register } from '../../../test/support/harness.js';
import type { Harness } from '../../../test/support/harness.js';
import {
  CORDON_AND_REPAIR,
  CORDON_AND_RESTART_JOBSET,
  CORDON_NODEPOOL,
  KIND_EXAMPLE,
  REPAIR_NODEPOOL,
} from './compat-bodies.js';
import {
  ADMIN_TOKEN,
  call,
  jobSet,
  jobSetPods,
  postAction,
  startWorld,
  unschedulable,
} from './world.js';

const POOL = ['my-node-pool-0', 'my-node-pool-1', 'my-node-pool-2', 'my-node-pool-3'];
const UNCORDON = {
  requestor: 'ops',
  reason: 'pool healthy again',
  type: 'uncordon_nodepool',
  node_pool: 'my-node-pool',
};

describe("failover actions: the failover controller's examples end to end", () => {
  let h: Harness;
  let worker: RoamApp<unknown>;
  let roamJobId: string;

  const getAction = async (id: string) => {
    const response = await call(h.url, 'GET', `/api/v1/actions/${id}`, undefined, ADMIN_TOKEN);
    expect(response.status).toBe(200);
    return response.body;
  };
  const cordonStates = () => Promise.all(POOL.map((node) => unschedulable(h, node)));
  const poolBack = () =>
    eventually(
      'my-node-pool to have its 4 nodes',
      () => h.sim.cluster.pool('my-node-pool')?.nodes.length === 4,
    );
  const uncordon = async () => {
    await poolBack();
    const response = await postAction(h, UNCORDON);
    expect(response.status).toBe(200);
    expect(await cordonStates()).toEqual(['', '', '', '']);
  };
  const leaderOf = async (name: string, attempt: string) =>
    (await jobSetPods(h, name)).find(
      (p) => p.jobIndex === '0' && p.attempt === attempt && p.phase === 'Running',
    );

  beforeAll(async () => {
    const world = await startWorld('failover_actions');
    h = world.h;
    worker = await world.startWorker();
    await h.kube.create(jobSet('my-jobset'));
    await h.kube.create(jobSet('example-jobset'));
    const key = await register(h.url, 'acme');
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        name: 'trainer',
        image: 'busybox',
        command: ['sleep', '10000000'],
        resources: { cpu: '100m', memory: '64Mi' },
      },
      key,
    );
    expect(submitted.status).toBe(201);
    roamJobId = submitted.body.id as string;
    await eventually('the roam job to run on my-node-pool', async () => {
      const job = await h.prisma.job.findUnique({ where: { id: roamJobId } });
      const node = (job?.placement as { node?: string } | null)?.node;
      return job?.status === 'running' && node?.startsWith('my-node-pool-');
    });
    await eventually(
      'both JobSets to have a running leader',
      async () => (await leaderOf('my-jobset', '0')) && (await leaderOf('example-jobset', '0')),
    );
  });

  afterAll(async () => {
    await worker?.close();
    await h?.close();
  });

  it('is for admins only', async () => {
    expect((await call(h.url, 'POST', '/actions', CORDON_NODEPOOL)).status).toBe(401);
    const tenant = await register(h.url, 'nosy');
    expect((await call(h.url, 'POST', '/actions', CORDON_NODEPOOL, tenant)).status).toBe(403);
    expect((await call(h.url, 'GET', '/api/v1/actions', undefined, tenant)).status).toBe(403);
  });

  it('names the field each type is missing in a 400 problem', async () => {
    const noJobSet = await postAction(h, { ...CORDON_AND_RESTART_JOBSET, jobset_name: undefined });
    expect(noJobSet.status).toBe(400);
    expect(noJobSet.headers.get('content-type')).toContain('application/problem+json');
    expect(noJobSet.body.errors).toEqual([
      {
        path: 'jobset_name',
        message: 'jobset_name is required for cordon_nodepool_and_restart_jobset',
      },
    ]);
    const noPool = await postAction(h, { ...REPAIR_NODEPOOL, node_pool: undefined });
    expect(noPool.status).toBe(400);
    expect(noPool.body.detail).toBe('body: node_pool: node_pool is required for repair_nodepool');
    const badType = await postAction(h, { ...CORDON_NODEPOOL, type: 'drain_everything' });
    expect(badType.status).toBe(400);
    expect(badType.body.errors[0].path).toBe('type');
    expect(await h.prisma.action.count()).toBe(0);
  });

  it('dry run: records and publishes what would happen, touches nothing', async () => {
    const nodesBefore = await Promise.all(
      POOL.map((n) => h.kube.get({ apiVersion: 'v1', kind: 'Node', name: n })),
    );
    const podsBefore = await jobSetPods(h, 'my-jobset');
    const response = await postAction(h, {
      ...CORDON_AND_RESTART_JOBSET,
      id: 'dry-1',
      dry_run: true,
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: 'dry-1' });

    const action = await getAction('dry-1');
    expect(action).toMatchObject({ state: 'succeeded', dry_run: true, steps: [] });
    const leader = await leaderOf('my-jobset', '0');
    expect(action.plan.jobset.leaderPod).toMatchObject({ name: leader?.name, uid: leader?.uid });
    expect(action.plan.steps.map((s: { name: string }) => s.name)).toEqual([
      'cordon_nodes',
      'restart_jobset',
    ]);
    expect(action.plan.nodes.map((n: { name: string }) => n.name)).toEqual(POOL);
    expect(action.plan.roamJobs).toEqual([
      expect.objectContaining({ jobId: roamJobId, tenantId: 'acme', status: 'running' }),
    ]);
    expect(action.plan.tenants).toEqual(['acme']);
    expect(action.plan.pods.length).toBeGreaterThan(0);

    const repair = await postAction(h, {
      ...REPAIR_NODEPOOL,
      id: 'dry-2',
      dry_run: true,
      node_name: 'my-node-pool-2',
    });
    expect(repair.status).toBe(200);
    expect((await getAction('dry-2')).plan.instance).toMatchObject({
      name: 'my-node-pool-2',
      node: 'my-node-pool-2',
    });

    const nodesAfter = await Promise.all(
      POOL.map((n) => h.kube.get({ apiVersion: 'v1', kind: 'Node', name: n })),
    );
    expect(nodesAfter.map((n) => [n?.metadata?.uid, (n as { spec?: unknown }).spec])).toEqual(
      nodesBefore.map((n) => [n?.metadata?.uid, (n as { spec?: unknown }).spec]),
    );
    expect((await jobSetPods(h, 'my-jobset')).map((p) => p.uid).sort()).toEqual(
      podsBefore.map((p) => p.uid).sort(),
    );
    expect(h.sim.compute.deletions).toEqual([]);
    const events = await h.prisma.event.findMany({
      where: { subject: 'actions/dry-1' },
      orderBy: { time: 'asc' },
    });
    expect(events.map((e) => e.type)).toEqual([
      subjects.action.requested,
      subjects.action.started,
      subjects.action.succeeded,
    ]);
    // The gateway records the request; the failover worker runs it.
    expect(events.map((e) => (e.envelope as { source: string }).source)).toEqual([
      'roam/gateway',
      'roam/failover',
      'roam/failover',
    ]);
    expect(
      (events[2]?.envelope as { data: { plan: { steps: unknown[] } } }).data.plan.steps,
    ).toHaveLength(2);
  });

  it('cordon_nodepool: every node of the pool is unschedulable (kubectl says true)', async () => {
    const response = await postAction(h, CORDON_NODEPOOL);
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(['id']);
    expect(await cordonStates()).toEqual(['true', 'true', 'true', 'true']);
    const action = await getAction(response.body.id);
    expect(action.steps).toEqual([
      expect.objectContaining({ index: 0, name: 'cordon_nodes', state: 'succeeded', error: null }),
    ]);
    expect(action.started_at).not.toBeNull();
    expect(action.finished_at).not.toBeNull();
    const succeeded = await h.prisma.event.findFirstOrThrow({
      where: { subject: `actions/${response.body.id}`, type: subjects.action.succeeded },
    });
    expect((succeeded.envelope as { data: unknown }).data).toMatchObject({
      nodePool: 'my-node-pool',
      poolCordoned: true,
      state: 'succeeded',
    });
  });

  it('uncordon_nodepool undoes it', async () => {
    await uncordon();
  });

  it('cordon_nodepool_and_restart_jobset: cordons and restarts the JobSet by deleting its leader', async () => {
    const leader = await leaderOf('my-jobset', '0');
    const response = await postAction(h, CORDON_AND_RESTART_JOBSET);
    expect(response.status).toBe(200);
    expect(await cordonStates()).toEqual(['true', 'true', 'true', 'true']);
    const action = await getAction(response.body.id);
    expect(action.steps.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([
      ['cordon_nodes', 'succeeded'],
      ['restart_jobset', 'succeeded'],
    ]);
    expect(action.steps[1].detail.result).toEqual({
      deletedPod: leader?.name,
      alreadyDeleted: false,
    });
    const recreated = await eventually('a new leader pod (restart attempt 1)', () =>
      leaderOf('my-jobset', '1'),
    );
    expect(recreated.uid).not.toBe(leader?.uid);
    expect(recreated.node?.startsWith('my-node-pool-')).toBe(false);
    const js = await h.kube.get<{ status?: { restarts?: number } } & { metadata?: object }>({
      apiVersion: 'jobset.x-k8s.io/v1alpha2',
      kind: 'JobSet',
      name: 'my-jobset',
      namespace: 'default',
    });
    expect(js?.status?.restarts).toBe(1);
    await uncordon();
  });

  it('the kind example (test-pool, no preflight) cordons its node and restarts example-jobset', async () => {
    const response = await postAction(h, KIND_EXAMPLE);
    expect(response.status).toBe(200);
    expect(await unschedulable(h, 'test-pool-0')).toBe('true');
    await eventually('example-jobset to restart', () => leaderOf('example-jobset', '1'));
  });

  it('cordon_and_repair_nodepool: cordons, deletes one instance, and the pool recreates it', async () => {
    const response = await postAction(h, CORDON_AND_REPAIR);
    expect(response.status).toBe(200);
    expect(h.sim.compute.deletions).toHaveLength(1);
    const deleted = h.sim.compute.deletions[0]!;
    // No node_name and every node Ready: the first node by name.
    expect(deleted).toMatchObject({ instance: 'my-node-pool-0', project: 'roam-sim' });
    const action = await getAction(response.body.id);
    expect(action.steps.map((s: { name: string }) => s.name)).toEqual([
      'cordon_nodes',
      'delete_instance',
    ]);
    expect(action.plan.instance.id).toBe(deleted.id);
    for (const node of POOL.slice(1)) expect(await unschedulable(h, node)).toBe('true');
    await poolBack();
    const back = await h.kube.get({ apiVersion: 'v1', kind: 'Node', name: 'my-node-pool-0' });
    expect(back?.metadata?.uid).not.toBe(deleted.id);
    await uncordon();
  });

  it('repair_nodepool: deletes the named node’s instance without cordoning', async () => {
    const response = await postAction(h, { ...REPAIR_NODEPOOL, node_name: 'my-node-pool-3' });
    expect(response.status).toBe(200);
    expect(h.sim.compute.deletions.map((d) => d.instance)).toEqual([
      'my-node-pool-0',
      'my-node-pool-3',
    ]);
    await poolBack();
    expect(await cordonStates()).toEqual(['', '', '', '']);
    const compatBody = await postAction(h, REPAIR_NODEPOOL);
    expect(compatBody.status).toBe(200);
    expect(h.sim.compute.deletions).toHaveLength(3);
    await poolBack();
  });

  it('preflight refuses a pool short of its topology, saying what it expected and found', async () => {
    const response = await postAction(h, { ...CORDON_NODEPOOL, node_pool: 'short-pool' });
    expect(response.status).toBe(422);
    expect(response.body.error).toBe(
      'preflight failed: node pool short-pool has 3 nodes, expected 4 (topology 2x2x4 = 16 chips / 4 per node)',
    );
    const action = await getAction(response.body.id);
    expect(action).toMatchObject({
      state: 'failed',
      steps: [],
      outcome: { preflight: { expected: 4, found: 3 } },
    });
    expect(await unschedulable(h, 'short-pool-0')).toBe('');
    const explicit = await postAction(h, {
      ...CORDON_NODEPOOL,
      node_pool: 'short-pool',
      preflight_checks: { expected_node_counts: 3 },
    });
    expect(explicit.status).toBe(200);
    expect(await unschedulable(h, 'short-pool-0')).toBe('true');
  });

  it('the same id twice runs once; the second answer is the first’s', async () => {
    const body = { ...CORDON_NODEPOOL, id: 'twice-1' };
    const [first, second] = await Promise.all([postAction(h, body), postAction(h, body)]);
    expect([first.status, first.body]).toEqual([200, { id: 'twice-1' }]);
    expect([second.status, second.body]).toEqual([200, { id: 'twice-1' }]);
    const third = await postAction(h, body, '/api/v1/actions');
    expect([third.status, third.body]).toEqual([200, { id: 'twice-1' }]);
    expect(await h.prisma.actionStep.count({ where: { actionId: 'twice-1' } })).toBe(1);
    expect(
      await h.prisma.event.count({
        where: { subject: 'actions/twice-1', type: subjects.action.started },
      }),
    ).toBe(1);
    await uncordon();
  });

  it('a second action on a pool with one in flight is a 409 naming it', async () => {
    h.sim.compute.unavailable = true;
    try {
      const held = await call(
        h.url,
        'POST',
        '/api/v1/actions?wait=0',
        { ...REPAIR_NODEPOOL, id: 'held-1' },
        ADMIN_TOKEN,
      );
      expect([held.status, held.body]).toEqual([202, { id: 'held-1' }]);
      const other = await postAction(h, { ...CORDON_NODEPOOL, id: 'other-1' });
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({
        id: 'other-1',
        running_action: { id: 'held-1', type: 'repair_nodepool' },
        error: expect.stringContaining('held-1'),
      });
      expect(await h.prisma.action.findUnique({ where: { id: 'other-1' } })).toBeNull();
      // A dry run is not blocked: it touches nothing.
      expect(
        (await postAction(h, { ...CORDON_NODEPOOL, id: 'other-dry', dry_run: true })).status,
      ).toBe(200);
      expect(['pending', 'running']).toContain((await getAction('held-1')).state);
    } finally {
      h.sim.compute.unavailable = false;
    }
    await eventually(
      'the held action to finish once the compute API is back',
      async () => (await getAction('held-1')).state === 'succeeded',
    );
    await poolBack();
  });

  it('lists the audit log with filters and keyset pages', async () => {
    const all = await call(h.url, 'GET', '/api/v1/actions?limit=200', undefined, ADMIN_TOKEN);
    expect(all.status).toBe(200);
    const total = await h.prisma.action.count();
    expect(all.body.items).toHaveLength(total);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        body: { items: { id: string }[]; next_cursor: string | null };
      } = await call(
        h.url,
        'GET',
        `/api/v1/actions?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        ADMIN_TOKEN,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((i: { id: string }) => i.id));
    const repairs = await call(
      h.url,
      'GET',
      '/api/v1/actions?type=repair_nodepool&limit=200',
      undefined,
      ADMIN_TOKEN,
    );
    expect(repairs.body.items.length).toBeGreaterThan(0);
    expect(repairs.body.items.every((i: { type: string }) => i.type === 'repair_nodepool')).toBe(
      true,
    );
    const byUser = await call(
      h.url,
      'GET',
      '/api/v1/actions?requestor=test-user',
      undefined,
      ADMIN_TOKEN,
    );
    expect(byUser.body.items.map((i: { node_pool: string }) => i.node_pool)).toEqual(['test-pool']);
    const short = await call(
      h.url,
      'GET',
      '/api/v1/actions?node_pool=short-pool',
      undefined,
      ADMIN_TOKEN,
    );
    expect(short.body.items.map((i: { state: string }) => i.state).sort()).toEqual([
      'failed',
      'succeeded',
    ]);
    const future = await call(
      h.url,
      'GET',
      `/api/v1/actions?since=${new Date(Date.now() + 3600_000).toISOString()}`,
      undefined,
      ADMIN_TOKEN,
    );
    expect(future.body).toEqual({ items: [], next_cursor: null });
    expect((await call(h.url, 'GET', '/api/v1/actions/nope', undefined, ADMIN_TOKEN)).status).toBe(
      404,
    );
  });
});
