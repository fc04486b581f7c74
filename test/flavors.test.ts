import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { ADMIN_TOKEN, call, type Harness, register, startHarness } from './support/harness.js';

const GPU_NODE = {
  cpu: '48',
  memory: '192Gi',
  pods: '110',
  'nvidia.com/gpu': '4',
};
const GPU_TAINT = [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }];

/**
 * Flavors end to end on the simulator: GKE's node labels on a spot L4 pool, an on-demand L4
 * pool, an H100 pool and a single-host TPU v5e 2x4 slice. Jobs name a GPU type, a capacity or a
 * TPU slice; admission places them on those nodes only, the Kubernetes Job carries the matching
 * node selector (so the simulator's scheduler binds the pod there too), a flavor no node has is
 * refused at submit, and a tenant's quota per GPU type holds jobs of that type.
 */
describe('GPU and TPU flavors', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness(
      'flavors',
      {},
      {
        world: {
          pools: [
            // Named so first-fit by name meets the wrong flavor first.
            { name: 'a-cpu', nodes: 1, capacity: { cpu: '8', memory: '32Gi', pods: '110' } },
            {
              name: 'b-l4',
              nodes: 1,
              capacity: GPU_NODE,
              labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
              taints: GPU_TAINT,
            },
            {
              name: 'c-h100',
              nodes: 1,
              capacity: GPU_NODE,
              labels: { 'cloud.google.com/gke-accelerator': 'nvidia-h100-80gb' },
              taints: GPU_TAINT,
            },
            {
              name: 'd-l4-spot',
              nodes: 1,
              capacity: GPU_NODE,
              labels: {
                'cloud.google.com/gke-accelerator': 'nvidia-l4',
                'cloud.google.com/gke-spot': 'true',
              },
              taints: GPU_TAINT,
            },
            {
              name: 'e-v5e-2x4',
              nodes: 1,
              capacity: { cpu: '224', memory: '192Gi', pods: '110', 'google.com/tpu': '8' },
              labels: {
                'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
                'cloud.google.com/gke-tpu-topology': '2x4',
                'cloud.google.com/gke-accelerator-count': '8',
              },
              taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
            },
          ],
        },
      },
    );
    key = await register(h.url, 'flavor-a', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_gpu: 8,
      max_concurrent_jobs: 20,
    });
    await eventually(
      'tenant ready',
      async () => (await h.prisma.tenant.count({ where: { status: 'ready' } })) === 1,
    );
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const submit = async (spec: Record<string, unknown>) =>
    call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', resources: { cpu: '1', memory: '1Gi' }, ...spec },
      key,
    );
  const get = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body;
  const until = (id: string, status: string) =>
    eventually(`job ${id} to be ${status}`, async () => {
      const job = await get(id);
      return job.status === status && job;
    });
  const podTemplate = async (id: string) => {
    const job = (await h.kube.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: 'roam-flavor-a',
    })) as { spec: { template: { spec: Record<string, unknown> } } };
    return job.spec.template.spec;
  };
  const cancel = async (id: string) =>
    expect((await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key)).status).toBe(200);

  it('runs a spot L4 job on the spot L4 node, with the nodeSelector that binds it there', async () => {
    const submitted = await submit({
      command: ['sleep', '100000'],
      resources: { cpu: '1', memory: '1Gi', gpu: { count: 1, type: 'nvidia-l4' } },
      capacity: 'spot',
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const running = await until(id, 'running');
    expect(running.placement.node).toBe('d-l4-spot-0');
    expect(running.spec).toMatchObject({
      resources: { gpu: { count: 1, type: 'nvidia-l4' } },
      capacity: 'spot',
    });
    const pod = await podTemplate(id);
    expect(pod.nodeSelector).toEqual({
      'cloud.google.com/gke-accelerator': 'nvidia-l4',
      'cloud.google.com/gke-spot': 'true',
    });
    expect(pod).not.toHaveProperty('affinity');
    await cancel(id);
  });

  it('runs an on-demand L4 job on the on-demand L4 node, through a "not spot" node affinity', async () => {
    const submitted = await submit({
      command: ['sh', '-c', 'true'],
      resources: { cpu: '1', memory: '1Gi', gpu: { count: 1, type: 'nvidia-l4' } },
      capacity: 'on-demand',
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const done = await until(id, 'succeeded');
    expect(done.placement.node).toBe('b-l4-0');
  });

  it('runs a single-host TPU v5e 2x4 slice on its host, asking for all 8 chips', async () => {
    const submitted = await submit({
      command: ['sleep', '100000'],
      resources: {
        cpu: '1',
        memory: '1Gi',
        tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' },
      },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const running = await until(id, 'running');
    expect(running.placement.node).toBe('e-v5e-2x4-0');
    const pod = (await podTemplate(id)) as {
      nodeSelector: Record<string, string>;
      containers: { resources: { requests: Record<string, string> } }[];
    };
    expect(pod.nodeSelector).toEqual({
      'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
      'cloud.google.com/gke-tpu-topology': '2x4',
    });
    expect(pod.containers[0]!.resources.requests['google.com/tpu']).toBe('8');
    await cancel(id);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a GPU type no node has',
      { resources: { gpu: { count: 1, type: 'nvidia-a100-80gb' } } },
      /no node matches the job's GPU type nvidia-a100-80gb, node selector and tolerations/,
    ],
    [
      'a TPU topology no node has',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '4x8' } } },
      /no node matches the job's TPU type tpu-v5-lite-podslice with topology 4x8/,
    ],
    [
      'spot H100s when the H100 pool is on-demand',
      { resources: { gpu: { count: 1, type: 'nvidia-h100-80gb' } }, capacity: 'spot' },
      /no node matches the job's GPU type nvidia-h100-80gb, spot capacity/,
    ],
  ])('refuses %s with a 422 that says so, and stores nothing', async (_name, spec, message) => {
    const before = await h.prisma.job.count();
    const refused = await submit({ command: ['true'], ...spec });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toMatch(message);
    expect(await h.prisma.job.count()).toBe(before);
  });

  it('refuses a malformed flavor with a 400 naming the field', async () => {
    const refused = await submit({
      command: ['true'],
      resources: { gpu: { count: 1, type: 'NVIDIA L4' } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/resources\.gpu\.type/);
  });

  it('holds a job over its tenant quota for the GPU type, WaitingForQuota in /explain', async () => {
    const set = await call(
      h.url,
      'PATCH',
      '/api/v1/tenants/flavor-a',
      { max_gpu: { 'nvidia-l4': 1, 'nvidia-h100-80gb': 4 } },
      ADMIN_TOKEN,
    );
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      max_gpu: 5,
      max_gpu_by_type: { 'nvidia-l4': 1, 'nvidia-h100-80gb': 4 },
    });
    const l4 = { resources: { cpu: '1', memory: '1Gi', gpu: { count: 1, type: 'nvidia-l4' } } };
    const first = (await submit({ command: ['sleep', '100000'], ...l4 })).body.id as string;
    await until(first, 'running');
    const second = (await submit({ command: ['sleep', '100000'], ...l4 })).body.id as string;
    // Another type of the same tenant is not held by the L4 quota.
    const h100 = (
      await submit({
        command: ['sleep', '100000'],
        resources: { cpu: '1', memory: '1Gi', gpu: { count: 1, type: 'nvidia-h100-80gb' } },
      })
    ).body.id as string;
    expect((await until(h100, 'running')).placement.node).toBe('c-h100-0');

    const waiting = await eventually('the second L4 job queued for quota', async () => {
      const job = await get(second);
      return job.reason === 'WaitingForQuota' && job;
    });
    expect(waiting).toMatchObject({ status: 'pending', phase: 'Queued' });
    const explained = await call(h.url, 'GET', `/api/v1/jobs/${second}/explain`, undefined, key);
    expect(explained.status).toBe(200);
    expect(explained.body.summary).toMatch(
      /nvidia-l4 gpu quota \(1 GPU in use \+ 1 GPU requested > 1 GPU limit\)/,
    );

    // The first L4 job ends: the second one gets the type's quota.
    await cancel(first);
    await until(second, 'running');
    await cancel(second);
    await cancel(h100);
  });

  it('refuses a malformed per-type quota with a 400 and leaves the limits as they were', async () => {
    const before = await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'flavor-a' } });
    for (const max_gpu of [{ 'NVIDIA L4': 1 }, { 'nvidia-l4': -1 }, {}, { 'nvidia-l4': 1.5 }]) {
      const refused = await call(
        h.url,
        'PATCH',
        '/api/v1/tenants/flavor-a',
        { max_gpu },
        ADMIN_TOKEN,
      );
      expect(refused.status).toBe(400);
    }
    const after = await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'flavor-a' } });
    expect([after.maxGpu, after.maxGpuByType]).toEqual([before.maxGpu, before.maxGpuByType]);
    // The plain number form clears the types again.
    const plain = await call(
      h.url,
      'PATCH',
      '/api/v1/tenants/flavor-a',
      { max_gpu: 8 },
      ADMIN_TOKEN,
    );
    expect(plain.body.max_gpu).toBe(8);
    expect(plain.body).not.toHaveProperty('max_gpu_by_type');
  });
});
