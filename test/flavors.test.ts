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
              // Two single-host v5e 2x4 slices: 8 chips on each ct5lp-hightpu-8t host.
              name: 'e-v5e-2x4',
              nodes: 2,
              capacity: { cpu: '224', memory: '192Gi', pods: '110', 'google.com/tpu': '8' },
              labels: {
                'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
                'cloud.google.com/gke-tpu-topology': '2x4',
                'cloud.google.com/gke-accelerator-count': '8',
              },
              taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
            },
            {
              // A multi-host v5e 4x4 slice: 16 chips on four ct5lp-hightpu-4t hosts.
              name: 'f-v5e-4x4',
              nodes: 4,
              capacity: { cpu: '112', memory: '192Gi', pods: '110', 'google.com/tpu': '4' },
              labels: {
                'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
                'cloud.google.com/gke-tpu-topology': '4x4',
                'cloud.google.com/gke-accelerator-count': '4',
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
  type Pod = {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { nodeName?: string; subdomain?: string };
    status?: { phase?: string };
  };
  const podsOf = async (id: string, attempt = 1) =>
    (
      await h.kube.list<Pod>('v1', 'Pod', {
        namespace: 'roam-flavor-a',
        labelSelector: `roam.dev/job-id=${id},roam.dev/attempt=${attempt}`,
      })
    ).items;
  /** Waits until no unfinished pod is on the node (a cancelled job's pod goes after its row). */
  const nodeDrained = (node: string) =>
    eventually(`node ${node} to hold no pod`, async () => {
      const pods = await h.kube.list<Pod>('v1', 'Pod', { namespace: 'roam-flavor-a' });
      return !pods.items.some(
        (p) =>
          p.spec.nodeName === node &&
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed',
      );
    });
  const logs = async (id: string, replica: string) => {
    const response = await fetch(`${h.url}/api/v1/jobs/${id}/logs?replica=${replica}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: response.status, text: await response.text() };
  };
  const ON_DEMAND_AFFINITY = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: 'cloud.google.com/gke-spot', operator: 'NotIn', values: ['true'] },
            ],
          },
        ],
      },
    },
  };

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

  it('runs prefer-spot jobs on spot while a spot node has room, then on on-demand', async () => {
    await nodeDrained('d-l4-spot-0');
    const preferSpot = {
      command: ['sleep', '100000'],
      resources: { cpu: '1', memory: '1Gi', gpu: { count: 4, type: 'nvidia-l4' } },
      capacity: 'prefer-spot',
    };
    // Spot is free: the first one goes there, though the on-demand L4 node comes first by name.
    const first = await submit(preferSpot);
    expect(first.status).toBe(201);
    const firstId = first.body.id as string;
    expect((await until(firstId, 'running')).placement.node).toBe('d-l4-spot-0');
    const firstPod = await podTemplate(firstId);
    expect(firstPod.nodeSelector).toEqual({
      'cloud.google.com/gke-accelerator': 'nvidia-l4',
      'cloud.google.com/gke-spot': 'true',
    });
    expect(firstPod).not.toHaveProperty('affinity');
    // Spot is full: the second one goes to on-demand, and its pod may only be bound there.
    const secondId = (await submit(preferSpot)).body.id as string;
    const second = await until(secondId, 'running');
    expect(second.placement.node).toBe('b-l4-0');
    expect(second.spec.capacity).toBe('prefer-spot');
    const secondPod = await podTemplate(secondId);
    expect(secondPod.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(secondPod.affinity).toEqual(ON_DEMAND_AFFINITY);
    const rows = await h.prisma.job.findMany({ where: { id: { in: [firstId, secondId] } } });
    expect(Object.fromEntries(rows.map((r) => [r.id, r.admittedCapacity]))).toEqual({
      [firstId]: 'spot',
      [secondId]: 'on-demand',
    });
    await cancel(firstId);
    await cancel(secondId);
  });

  it('runs a multi-host TPU v5e 4x4 slice as 4 pods on the 4 hosts of the slice; a second one waits for it', async () => {
    const slice = {
      resources: {
        cpu: '1',
        memory: '1Gi',
        tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' },
      },
    };
    const first = await submit({
      command: [
        'sh',
        '-c',
        'echo "worker $TPU_WORKER_ID replica $ROAM_REPLICA_INDEX index $JOB_COMPLETION_INDEX hosts $TPU_WORKER_HOSTNAMES"; sleep 100000',
      ],
      ...slice,
    });
    expect(first.status).toBe(201);
    const id = first.body.id as string;
    const kubeJob = `roam-${id}-1`;
    // Running means every host's pod runs (the gang), each on its own host of the slice.
    await until(id, 'running');
    const pods = await podsOf(id);
    expect(pods).toHaveLength(4);
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual([
      'f-v5e-4x4-0',
      'f-v5e-4x4-1',
      'f-v5e-4x4-2',
      'f-v5e-4x4-3',
    ]);
    expect(pods.every((p) => p.spec.subdomain === kubeJob)).toBe(true);
    // The row holds every host's pod, so the tenant's usage counts them all once admitted.
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect(row.cpuMillis).toBe(4000);
    expect(row.podSets).toEqual([
      { name: 'slice', count: 4, cpuMillis: 1000, memoryBytes: 1024 ** 3, gpu: 0 },
    ]);

    const job = (await h.kube.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: kubeJob,
      namespace: 'roam-flavor-a',
    })) as {
      spec: {
        completionMode: string;
        parallelism: number;
        completions: number;
        template: {
          spec: {
            nodeSelector: Record<string, string>;
            containers: { resources: { requests: Record<string, string> } }[];
          };
        };
      };
    };
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', parallelism: 4, completions: 4 });
    expect(job.spec.template.spec.nodeSelector).toEqual({
      'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
      'cloud.google.com/gke-tpu-topology': '4x4',
    });
    expect(job.spec.template.spec.containers[0]!.resources.requests['google.com/tpu']).toBe('4');
    // The headless Service the hosts' names resolve under.
    const service = (await h.kube.get({
      apiVersion: 'v1',
      kind: 'Service',
      name: kubeJob,
      namespace: 'roam-flavor-a',
    })) as { spec: { clusterIP: string; selector: Record<string, string> } };
    expect(service.spec).toMatchObject({
      clusterIP: 'None',
      selector: { 'roam.dev/job-id': id, 'roam.dev/attempt': '1' },
    });

    // Each host's log, by replica.
    const hostnames = [0, 1, 2, 3].map((i) => `${kubeJob}-${i}.${kubeJob}`).join(',');
    for (const i of [0, 1, 2, 3]) {
      const log = await eventually(`replica ${i}'s log`, async () => {
        const read = await logs(id, String(i));
        return read.text.includes('worker') && read;
      });
      expect(log.status).toBe(200);
      expect(log.text).toContain(`worker ${i} replica ${i} index ${i} hosts ${hostnames}`);
    }
    expect((await logs(id, 'worker-0')).status).toBe(404);

    // The slice's hosts are taken: a second 4x4 job waits for them.
    const secondId = (
      await submit({ command: ['sh', '-c', 'echo "second on $TPU_WORKER_ID"'], ...slice })
    ).body.id as string;
    const waiting = await eventually('the second slice to wait for capacity', async () => {
      const second = await get(secondId);
      return second.reason === 'InsufficientCapacity' && second;
    });
    expect(waiting).toMatchObject({ status: 'pending', phase: 'Queued' });

    // The first one ends: the second runs on the same 4 hosts and succeeds.
    await cancel(id);
    await until(secondId, 'succeeded');
    const secondPods = await podsOf(secondId);
    expect(secondPods.map((p) => p.spec.nodeName).sort()).toEqual(
      pods.map((p) => p.spec.nodeName).sort(),
    );
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

  it('gives each pod of an indexed Job on a single-host slice a host of its own, and waits while one is taken', async () => {
    const slice = {
      resources: {
        cpu: '1',
        memory: '1Gi',
        tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' },
      },
    };
    await nodeDrained('e-v5e-2x4-0');
    const single = (await submit({ command: ['sleep', '100000'], ...slice })).body.id as string;
    await until(single, 'running');

    // Two pods of 8 chips each: one host is free, so the gang waits rather than being admitted
    // with a pod that cannot bind.
    const submitted = await submit({ command: ['sleep', '100000'], parallelism: 2, ...slice });
    expect(submitted.status).toBe(201);
    const gang = submitted.body.id as string;
    await eventually('the gang to wait for a second host', async () => {
      const job = await get(gang);
      return job.reason === 'InsufficientCapacity' && job.status === 'pending';
    });
    expect(await podsOf(gang)).toEqual([]);
    // Its row holds both pods' chips, which a tenant TPU quota counts.
    expect((await h.prisma.job.findUniqueOrThrow({ where: { id: gang } })).tpuChips).toBe(16);

    // The single-host job ends: the gang takes both hosts, one pod on each.
    await cancel(single);
    await until(gang, 'running');
    const pods = await eventually('both pods bound', async () => {
      const all = await podsOf(gang);
      return all.length === 2 && all.every((p) => p.spec.nodeName) && all;
    });
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(['e-v5e-2x4-0', 'e-v5e-2x4-1']);
    await cancel(gang);
    await nodeDrained('e-v5e-2x4-0');
    await nodeDrained('e-v5e-2x4-1');
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

  it.each<[string, Record<string, unknown>, string]>([
    [
      'parallelism',
      { parallelism: 2, resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' } } },
      'resources.tpu: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts and runs as one pod per host; leave out parallelism and completions, or for several slices use one replicated job with replicas = slices',
    ],
    [
      'replicated_jobs naming a slice the job does not',
      {
        replicated_jobs: [
          {
            name: 'slices',
            replicas: 2,
            resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' } },
          },
        ],
      },
      "replicated_jobs.0.resources.tpu: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts: name it in the job's resources.tpu (the job's slices are all of one type and topology)",
    ],
  ])(
    'refuses a multi-host slice with %s with a 422 naming the field, and stores nothing',
    async (_name, spec, detail) => {
      const before = await h.prisma.job.count();
      const refused = await submit({ command: ['true'], ...spec });
      expect(refused.status).toBe(422);
      expect(refused.body.type).toBe('https://roam.dev/problems/invalid-multi-pod-job');
      expect(refused.body.detail).toBe(detail);
      expect(await h.prisma.job.count()).toBe(before);
    },
  );

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

  it('holds a TPU job over its tenant TPU quota WaitingForQuota, and refuses one over it for ever with a 422', async () => {
    // A tenant of its own: the gateway caches a tenant's limits briefly, and this one's are set
    // before its first submit.
    const tpuKey = await register(h.url, 'flavor-tpu', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_concurrent_jobs: 20,
    });
    await eventually('tenant flavor-tpu ready', async () => {
      const tenant = await h.prisma.tenant.findUnique({ where: { id: 'flavor-tpu' } });
      return tenant?.status === 'ready';
    });
    const patch = (body: Record<string, unknown>) =>
      call(h.url, 'PATCH', '/api/v1/tenants/flavor-tpu', body, ADMIN_TOKEN);
    for (const max_tpu of [-1, 1.5, 'eight', {}, { 'TPU v5e': 8 }, { 'tpu-v5-lite-podslice': -8 }])
      expect((await patch({ max_tpu })).status).toBe(400);
    expect(
      (await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'flavor-tpu' } })).maxTpu,
    ).toBeNull();

    // The database refuses a negative quota too, whoever writes it.
    await expect(
      h.prisma.$executeRaw`UPDATE tenants SET max_tpu = -1 WHERE id = 'flavor-tpu'`,
    ).rejects.toThrow(/max_tpu must not be negative/);

    const set = await patch({ max_tpu: { 'tpu-v5-lite-podslice': 8 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      max_tpu: 8,
      max_tpu_by_type: { 'tpu-v5-lite-podslice': 8 },
    });

    const submitTpu = (spec: Record<string, unknown>) =>
      call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', command: ['sleep', '100000'], ...spec },
        tpuKey,
      );
    const slice = {
      resources: {
        cpu: '1',
        memory: '1Gi',
        tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' },
      },
    };
    // Two pods of a whole 2x4 host each: 16 chips, more than the tenant may ever hold.
    const refused = await submitTpu({ parallelism: 2, ...slice });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(
      /requests 16 TPU chips of type tpu-v5-lite-podslice but the tenant's whole tpu-v5-lite-podslice tpu quota is 8 TPU chips/,
    );

    await nodeDrained('e-v5e-2x4-0');
    await nodeDrained('e-v5e-2x4-1');
    const getTpu = async (id: string) =>
      (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, tpuKey)).body;
    const first = (await submitTpu(slice)).body.id as string;
    await eventually(
      'the first slice job running',
      async () => (await getTpu(first)).status === 'running',
    );
    // The second 2x4 host is free, but the tenant's 8 chips are taken.
    const second = (await submitTpu(slice)).body.id as string;
    const waiting = await eventually('the second slice job queued for TPU quota', async () => {
      const job = await getTpu(second);
      return job.reason === 'WaitingForQuota' && job;
    });
    expect(waiting.message).toMatch(
      /tpu-v5-lite-podslice tpu quota \(8 TPU chips in use \+ 8 TPU chips requested > 8 TPU chips limit\)/,
    );

    // The first one ends: the second gets the chips.
    expect((await call(h.url, 'DELETE', `/api/v1/jobs/${first}`, undefined, tpuKey)).status).toBe(
      200,
    );
    await eventually(
      'the second slice job running',
      async () => (await getTpu(second)).status === 'running',
    );
    expect((await call(h.url, 'DELETE', `/api/v1/jobs/${second}`, undefined, tpuKey)).status).toBe(
      200,
    );
    expect((await patch({ max_tpu: null })).body.max_tpu).toBeNull();
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

  it("stores a multi-host slice as its hosts' pods through a batch and an array as through a single submit, refuses a batch item over the TPU quota, and lists the chips in the tenant's usage", async () => {
    const batchKey = await register(h.url, 'flavor-batch', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_concurrent_jobs: 20,
    });
    await eventually('tenant flavor-batch ready', async () => {
      const tenant = await h.prisma.tenant.findUnique({ where: { id: 'flavor-batch' } });
      return tenant?.status === 'ready';
    });
    const patch = (body: Record<string, unknown>) =>
      call(h.url, 'PATCH', '/api/v1/tenants/flavor-batch', body, ADMIN_TOKEN);
    const batch = (jobs: Record<string, unknown>[]) =>
      call(h.url, 'POST', '/api/v1/jobs:batch', { jobs }, batchKey);
    const small = { image: 'busybox', command: ['true'], resources: { cpu: '1', memory: '1Gi' } };
    const slice = {
      image: 'busybox',
      command: ['sleep', '100000'],
      resources: {
        cpu: '1',
        memory: '1Gi',
        tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' },
      },
    };
    const rows = () => h.prisma.job.count({ where: { tenantId: 'flavor-batch' } });

    // The 4x4 slice's 16 chips are over an 8-chip quota: that item is named, nothing is written.
    expect((await patch({ max_tpu: 8 })).status).toBe(200);
    const refused = await batch([small, slice]);
    expect(refused.status).toBe(422);
    expect(refused.body.items).toEqual([
      {
        index: 1,
        reasons: [
          expect.objectContaining({
            kind: 'quota',
            message: expect.stringMatching(/requests 16 TPU chips/),
          }),
        ],
      },
    ]);
    expect(await rows()).toBe(0);

    expect((await patch({ max_tpu: 16 })).status).toBe(200);
    for (let i = 0; i < 4; i += 1) await nodeDrained(`f-v5e-4x4-${i}`);
    const accepted = await batch([small, slice]);
    expect(accepted.status).toBe(201);
    const [plain, sliced] = accepted.body.items as { id: string }[];
    // The slice's row holds its four hosts' pods, as a single submit's (first test) does.
    const slicedRow = await h.prisma.job.findUniqueOrThrow({ where: { id: sliced!.id } });
    expect(slicedRow).toMatchObject({ cpuMillis: 4000, tpuChips: 16 });
    expect(slicedRow.podSets).toEqual([
      { name: 'slice', count: 4, cpuMillis: 1000, memoryBytes: 1024 ** 3, gpu: 0 },
    ]);
    const plainRow = await h.prisma.job.findUniqueOrThrow({ where: { id: plain!.id } });
    expect(plainRow).toMatchObject({ cpuMillis: 1000, podSets: null, tpuChips: 0 });

    const usage = async () => {
      const listed = await call(h.url, 'GET', '/api/v1/tenants?limit=200', undefined, ADMIN_TOKEN);
      const tenants = listed.body.items as { tenant_id: string; usage: Record<string, number> }[];
      return tenants.find((t) => t.tenant_id === 'flavor-batch')!.usage;
    };
    await eventually('the batch slice running', async () => {
      const job = await call(h.url, 'GET', `/api/v1/jobs/${sliced!.id}`, undefined, batchKey);
      return job.body.status === 'running';
    });
    expect((await usage()).tpu).toBe(16);
    expect(
      (await call(h.url, 'DELETE', `/api/v1/jobs/${sliced!.id}`, undefined, batchKey)).status,
    ).toBe(200);
    await eventually('the slice chips released', async () => (await usage()).tpu === 0);

    // An array's elements of that slice are each their hosts' pods too.
    const array = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { ...slice, array: { size: 2 } },
      batchKey,
    );
    expect(array.status).toBe(201);
    const elements = await h.prisma.job.findMany({ where: { arrayId: array.body.id as string } });
    expect(elements).toHaveLength(2);
    for (const element of elements) {
      expect(element).toMatchObject({ cpuMillis: 4000, tpuChips: 16 });
      expect(element.podSets).toEqual([
        { name: 'slice', count: 4, cpuMillis: 1000, memoryBytes: 1024 ** 3, gpu: 0 },
      ]);
    }
    expect(
      (await call(h.url, 'DELETE', `/api/v1/arrays/${array.body.id}`, undefined, batchKey)).status,
    ).toBe(200);
    for (let i = 0; i < 4; i += 1) await nodeDrained(`f-v5e-4x4-${i}`);
  });

  // Last: it takes the spot L4 node away.
  it('requeues a prefer-spot job whose spot node is reclaimed, and it lands on on-demand', async () => {
    await nodeDrained('d-l4-spot-0');
    const id = (
      await submit({
        command: ['sleep', '100000'],
        resources: { cpu: '1', memory: '1Gi', gpu: { count: 1, type: 'nvidia-l4' } },
        capacity: 'prefer-spot',
      })
    ).body.id as string;
    expect((await until(id, 'running')).placement.node).toBe('d-l4-spot-0');

    // What GKE does when it takes spot capacity back: the node object goes, with its pods.
    await h.kube.delete({ apiVersion: 'v1', kind: 'Node', name: 'd-l4-spot-0' });

    const requeued = await eventually('attempt 2 to run on on-demand', async () => {
      const job = await get(id);
      return job.status === 'running' && job.attempt === 2 && job;
    });
    expect(requeued.placement.node).toBe('b-l4-0');
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect({ requeues: row.requeues, admittedCapacity: row.admittedCapacity }).toEqual({
      requeues: 1,
      admittedCapacity: 'on-demand',
    });
    const attempt2 = (await h.kube.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-2`,
      namespace: 'roam-flavor-a',
    })) as { spec: { template: { spec: Record<string, unknown> } } };
    expect(attempt2.spec.template.spec.affinity).toEqual(ON_DEMAND_AFFINITY);
    await cancel(id);
  });
});
