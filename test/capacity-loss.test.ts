import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { failoverEnv } from '../apps/failover/src/failover.config.js';
import { FailoverModule } from '../apps/failover/src/failover.module.js';
import { offloadEnv } from '../apps/offload/src/offload.config.js';
import { OffloadModule } from '../apps/offload/src/offload.module.js';
import { ADMIN_TOKEN, call, type Harness, register, startHarness } from './support/harness.js';

/**
 * Capacity loss end to end (docs/scheduling.md#capacity-loss): the gateway, scheduler,
 * reconciler, offload and failover workers against Postgres, NATS, the Kubernetes simulator and
 * its RunPod. A spot node that vanishes under a job requeues it without using a retry; a GPU pool
 * cordoned by a failover action sends offload-allowed GPU jobs to RunPod at once, while jobs that
 * may not be offloaded wait, saying why, until the pool is back.
 */
const WORLD = {
  pools: [
    {
      name: 'cpu-spot',
      nodes: 2,
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      labels: { 'cloud.google.com/gke-spot': 'true' },
    },
    {
      name: 'gpu-a100',
      nodes: 2,
      capacity: { cpu: '48', memory: '340Gi', pods: '110', 'nvidia.com/gpu': '8' },
      labels: { 'cloud.google.com/gke-accelerator': 'nvidia-a100' },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const }],
    },
  ],
};

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('capacity loss', () => {
  let h: Harness;
  let offload: RoamApp<unknown>;
  let failover: RoamApp<unknown>;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('capacity', {}, { world: WORLD });
    // Only the capacity rule may offload an `allowed` job here: the usual delay and threshold
    // are far out of reach of the test.
    offload = await createRoamApp({
      name: 'offload',
      schema: offloadEnv,
      module: OffloadModule,
      env: {
        ...h.env,
        RUNPOD_API_URL: `${h.sim.runpodUrl}/v1`,
        RUNPOD_API_KEY: 'sim-key',
        MAX_PENDING_TIME_SECONDS: '86400',
        PENDING_JOB_THRESHOLD: '1000',
        MAX_GPU_PRICE: '5',
        OFFLOAD_DENY_GPU_TYPES: '',
      },
    });
    failover = await createRoamApp({
      name: 'failover',
      schema: failoverEnv,
      module: FailoverModule,
      env: {
        ...h.env,
        COMPUTE_API_URL: h.sim.computeUrl,
        GCE_PROJECT: 'roam-sim',
        GKE_CLUSTER: 'sim',
      },
    });
    key = await register(h.url, 'cap-a', {
      max_cpu: 16,
      max_memory_gi: 64,
      max_concurrent_jobs: 8,
      max_gpu: 16,
      offload_budget_usd: null,
    });
    await eventually(
      'the tenant to be ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'cap-a' } }))?.status === 'ready',
    );
  }, 120_000);

  afterAll(async () => {
    await failover?.close();
    await offload?.close();
    await h?.close();
  });

  const submit = async (spec: Record<string, unknown>): Promise<string> => {
    const response = await call(h.url, 'POST', '/api/v1/jobs', { image: 'busybox', ...spec }, key);
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const get = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body;
  const until = (id: string, what: string, check: (job: Record<string, unknown>) => boolean) =>
    eventually(
      `job ${id} ${what}`,
      async () => {
        const job = await get(id);
        return check(job) && job;
      },
      { timeoutMs: 90_000 },
    );
  const history = async (id: string) =>
    (await h.prisma.jobHistory.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' } })).map(
      (row) => ({
        state: row.reason ? `${row.phase}/${row.reason}` : row.phase,
        message: row.message,
      }),
    );
  /** The job's `job.queued` events for lost or unavailable capacity, as the feed has them. */
  const queuedEvents = async (id: string) =>
    (
      await h.prisma.event.findMany({
        where: { subject: `jobs/${id}` },
        orderBy: { position: 'asc' },
      })
    )
      .filter((row) => row.type === subjects.job.queued)
      .map(
        (row) => (row.envelope as { data: { reason: string | null; message: string | null } }).data,
      )
      .filter((data) => data.reason === 'CapacityLost' || data.reason === 'CapacityUnavailable');
  const action = async (type: string) => {
    const response = await call(
      h.url,
      'POST',
      '/api/v1/actions',
      { requestor: 'ops@example.com', type, node_pool: 'gpu-a100', reason: 'test' },
      ADMIN_TOKEN,
    );
    expect([200, 202]).toContain(response.status);
    const id = response.body.id as string;
    const done = await eventually(
      `action ${type} to finish`,
      async () => {
        const got = await call(h.url, 'GET', `/api/v1/actions/${id}`, undefined, ADMIN_TOKEN);
        if (['succeeded', 'failed'].includes(got.body.state as string)) return got.body;
        throw new Error(`action ${id}: ${JSON.stringify(got.body)}`);
      },
      { timeoutMs: 90_000 },
    );
    expect(done).toMatchObject({ state: 'succeeded' });
    return id;
  };

  it('requeues a job whose spot node is reclaimed, without using a retry, and it succeeds elsewhere', async () => {
    // No retry policy: a single attempt. Before, losing the node failed the job for good.
    const id = await submit({
      command: ['sleep', '3000'],
      resources: { cpu: '1', memory: '1Gi' },
    });
    const running = await until(id, 'running on a node', (job) => job.status === 'running');
    const node = (running.placement as { node: string }).node;
    expect(node).toMatch(/^cpu-spot-/);

    // What GKE does when it takes spot capacity back: the node object goes, with its pods.
    await h.kube.delete({ apiVersion: 'v1', kind: 'Node', name: node });

    const done = await until(id, 'succeeded', (job) => job.status === 'succeeded');
    expect(done).toMatchObject({ attempt: 2 });
    expect((done.placement as { node: string }).node).not.toBe(node);
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect({ attempt: row.attempt, requeues: row.requeues, maxAttempts: row.maxAttempts }).toEqual({
      attempt: 2,
      requeues: 1,
      maxAttempts: 1,
    });
    const states = await history(id);
    expect(states.map((s) => s.state)).toContain('Queued/CapacityLost');
    expect(states.map((s) => s.state)).not.toContain('Queued/RetryBackoff');
    expect(states.find((s) => s.state === 'Queued/CapacityLost')?.message).toBe(
      `requeued: node ${node} of pool cpu-spot was reclaimed (spot); no retry used (requeue 1 of at most 3)`,
    );
    // Announced as a `job.queued` event with the reason and the same message.
    expect(await queuedEvents(id)).toEqual([
      expect.objectContaining({
        reason: 'CapacityLost',
        message: expect.stringContaining(`node ${node} of pool cpu-spot was reclaimed (spot)`),
      }),
    ]);
  }, 180_000);

  it('with the GPU pool cordoned by a failover action, offloads an offload-allowed GPU job at once and holds an offload-never one, saying why', async () => {
    const cordon = await action('cordon_nodepool');
    const loss = `pool gpu-a100 cordoned by action ${cordon}; no other node can take 1× GPU`;

    const allowed = await submit({
      command: ['sleep', '200'],
      resources: { cpu: '1', memory: '1Gi', gpu: 1 },
      offload: 'allowed',
    });
    const never = await submit({
      command: ['sleep', '200'],
      resources: { cpu: '1', memory: '1Gi', gpu: 1 },
    });

    // Allowed: to RunPod by the capacity rule (the usual delay is a day here), and it succeeds.
    const offloaded = await until(
      allowed,
      'succeeded on RunPod',
      (job) => job.status === 'succeeded',
    );
    expect(offloaded.placement).toMatchObject({ runpod_pod_id: expect.any(String) });
    const allowedStates = await history(allowed);
    expect(allowedStates.map((s) => s.state)).toEqual(
      expect.arrayContaining(['Queued/CapacityUnavailable', 'Running/Offloaded', 'Succeeded']),
    );
    // Why it went, then the GPU the usual policy (price cap, stock) chose for it.
    expect(allowedStates.find((s) => s.state === 'Running/Offloaded')?.message).toMatch(
      new RegExp(
        `^offloaded to RunPod: ${escape(loss)}; .+ is the cheapest of \\d+ fitting 1 GPU under \\$5/h$`,
      ),
    );
    expect(await queuedEvents(allowed)).toEqual([
      expect.objectContaining({ reason: 'CapacityUnavailable', message: loss }),
    ]);

    // Never: waits on the cluster, and the job, its event and /explain say why.
    const waiting = `${loss}; offload: never, so it waits until that capacity is back`;
    await until(never, 'waiting for lost capacity', (job) => job.reason === 'CapacityUnavailable');
    expect(await get(never)).toMatchObject({ status: 'pending', message: waiting });
    expect(await queuedEvents(never)).toEqual([
      expect.objectContaining({ reason: 'CapacityUnavailable', message: waiting }),
    ]);
    // The gateway's node picture refreshes every few seconds: wait for it to see the cordon.
    const explained = await eventually(
      'explain to see the cordoned pool',
      async () => {
        const got = await call(h.url, 'GET', `/api/v1/jobs/${never}/explain`, undefined, key);
        return got.body.reason === 'CapacityUnavailable' && got.body;
      },
      { timeoutMs: 60_000 },
    );
    expect(explained).toMatchObject({ pending: true, summary: `capacity unavailable: ${waiting}` });
    expect(await h.prisma.offload.count({ where: { jobId: never } })).toBe(0);

    // The pool is back: the job that waited runs on the cluster.
    await action('uncordon_nodepool');
    const ran = await until(never, 'succeeded on the cluster', (job) => job.status === 'succeeded');
    expect((ran.placement as { node: string }).node).toMatch(/^gpu-a100-/);
  }, 180_000);
});
