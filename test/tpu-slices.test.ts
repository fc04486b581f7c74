import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from './support/harness.js';

/*
 * Several multi-host TPU slices in one job, end to end on the simulator (docs/scheduling.md#flavors):
 * two node pools, each one v5e 4x4 slice of four 4-chip hosts. A JobSet of 2 slices runs as two
 * child Jobs of 4 pods, each slice on one pool and the two on different pools, with the TPU and
 * multislice (megascale) environment; asking for more slices than pools is a 422 at submit.
 */

const V5E_4X4_HOST = {
  nodes: 4,
  capacity: { cpu: '112', memory: '192Gi', pods: '110', 'google.com/tpu': '4' },
  labels: {
    'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
    'cloud.google.com/gke-tpu-topology': '4x4',
    'cloud.google.com/gke-accelerator-count': '4',
  },
  taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
};

const NS = 'roam-slices-a';

describe('a JobSet of several multi-host TPU slices', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness(
      'slices',
      {},
      {
        world: {
          pools: [
            { name: 'a-cpu', nodes: 1, capacity: { cpu: '8', memory: '32Gi', pods: '110' } },
            { name: 'v5e-4x4-a', ...V5E_4X4_HOST },
            { name: 'v5e-4x4-b', ...V5E_4X4_HOST },
          ],
        },
      },
    );
    key = await register(h.url, 'slices-a', {
      max_cpu: 100,
      max_memory_gi: 100,
      max_gpu: 0,
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
      {
        image: 'busybox',
        resources: {
          cpu: '1',
          memory: '1Gi',
          tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' },
        },
        ...spec,
      },
      key,
    );
  const get = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body;
  type Pod = {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { nodeName?: string; subdomain?: string; hostname?: string };
  };
  const podsOf = async (id: string) =>
    (
      await h.kube.list<Pod>('v1', 'Pod', {
        namespace: NS,
        labelSelector: `roam.dev/job-id=${id},roam.dev/attempt=1`,
      })
    ).items;
  const logs = async (id: string, replica: string) => {
    const response = await fetch(`${h.url}/api/v1/jobs/${id}/logs?replica=${replica}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: response.status, text: await response.text() };
  };

  it('runs 2 × v5e 4x4 as 8 pods, each slice on one pool and the two on different pools, with the TPU and megascale env', async () => {
    const submitted = await submit({
      command: [
        'sh',
        '-c',
        'echo "slice $MEGASCALE_SLICE_ID of $MEGASCALE_NUM_SLICES worker $TPU_WORKER_ID replica $ROAM_REPLICA_INDEX index $JOB_COMPLETION_INDEX coordinator $MEGASCALE_COORDINATOR_ADDRESS hosts $TPU_WORKER_HOSTNAMES"; sleep 100000',
      ],
      replicated_jobs: [{ name: 'slice', replicas: 2 }],
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    // The JobSet's name (kubeJobSetName): its pods' subdomain and host names' base.
    const js = `r${id.replaceAll('-', '')}-1`;

    // Stored as every host's pod of every slice: quota and usage count all 32 chips.
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect(row.podSets).toEqual([
      {
        name: 'slice',
        count: 8,
        cpuMillis: 1000,
        memoryBytes: 1024 ** 3,
        gpu: 0,
        tpu: 4,
        slices: 2,
      },
    ]);
    expect(row.cpuMillis).toBe(8000);
    expect(row.tpuChips).toBe(32);
    // Each replica is one slice of one pod per host: the spec says so once stored.
    expect(
      (row.spec as { replicated_jobs: { parallelism?: number }[] }).replicated_jobs[0],
    ).toMatchObject({ parallelism: 4 });

    await eventually(`job ${id} to run`, async () => (await get(id)).status === 'running');
    const admitted = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect([...(admitted.admittedPools as string[])].sort()).toEqual(['v5e-4x4-a', 'v5e-4x4-b']);

    const pods = await podsOf(id);
    expect(pods).toHaveLength(8);
    const poolOf = (node: string | undefined) => node?.replace(/-\d+$/, '');
    const bySlice = new Map<string, Pod[]>();
    for (const pod of pods) {
      const slice = pod.metadata.labels?.['jobset.sigs.k8s.io/job-index'] ?? '?';
      bySlice.set(slice, [...(bySlice.get(slice) ?? []), pod]);
    }
    expect([...bySlice.keys()].sort()).toEqual(['0', '1']);
    const slicePools = [...bySlice.values()].map((slice) => {
      const pools = new Set(slice.map((p) => poolOf(p.spec.nodeName)));
      expect(slice).toHaveLength(4);
      expect(pools.size).toBe(1); // all hosts of one slice on one pool
      return [...pools][0];
    });
    expect(new Set(slicePools).size).toBe(2); // the two slices on different pools
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(8);
    expect(pods.every((p) => p.spec.subdomain === js)).toBe(true);

    // Every pod's environment, from its own log.
    const hosts = (slice: number) =>
      [0, 1, 2, 3].map((i) => `${js}-slice-${slice}-${i}.${js}`).join(',');
    for (const pod of pods) {
      const slice = Number(pod.metadata.labels?.['jobset.sigs.k8s.io/job-index']);
      const worker = pod.spec.hostname?.split('-').at(-1);
      const log = await eventually(`${pod.metadata.name}'s log`, async () => {
        const text = await h.kube.logs(NS, pod.metadata.name);
        return text.includes('slice') && text;
      });
      expect(log).toContain(
        `slice ${slice} of 2 worker ${worker} replica ${slice} index ${worker} coordinator ${js}-slice-0-0.${js} hosts ${hosts(slice)}`,
      );
    }

    // Logs per replica: `slice-1` is one of slice 1's pods.
    for (const slice of [0, 1]) {
      const read = await eventually(`replica slice-${slice}'s log`, async () => {
        const r = await logs(id, `slice-${slice}`);
        return r.text.includes('slice') && r;
      });
      expect(read.status).toBe(200);
      expect(read.text).toContain(`slice ${slice} of 2 worker`);
      expect(read.text).toContain(`hosts ${hosts(slice)}`);
    }
    expect((await logs(id, 'slice-2')).status).toBe(404);

    // Both pools are taken: a one-slice job waits for one of them.
    const secondId = (
      await submit({
        command: ['sh', '-c', 'echo "one slice, worker $TPU_WORKER_ID"'],
        replicated_jobs: [{ name: 'slice', replicas: 1 }],
      })
    ).body.id as string;
    await eventually(
      'the one-slice job to wait for capacity',
      async () => (await get(secondId)).reason === 'InsufficientCapacity',
    );
    expect((await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key)).status).toBe(200);
    await eventually(
      'the one-slice job to succeed',
      async () => (await get(secondId)).status === 'succeeded',
    );
    const second = await podsOf(secondId);
    expect(second).toHaveLength(4);
    expect(new Set(second.map((p) => poolOf(p.spec.nodeName))).size).toBe(1);
  });

  it.each<[string, Record<string, unknown>, number, string]>([
    [
      'more slices than pools of that shape',
      { replicated_jobs: [{ name: 'slice', replicas: 3 }] },
      422,
      'needs 3 slices of tpu-v5-lite-podslice 4x4, the cluster has 2',
    ],
    [
      'a parallelism other than the slice’s hosts',
      { replicated_jobs: [{ name: 'slice', replicas: 2, parallelism: 2 }] },
      422,
      'replicated_jobs.0.parallelism: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts and each replica is one slice of one pod per host: leave parallelism out or set it to 4',
    ],
    [
      'a second replicated job beside the slices',
      {
        replicated_jobs: [
          { name: 'slice', replicas: 2 },
          { name: 'driver', replicas: 1 },
        ],
      },
      422,
      'replicated_jobs: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts: a job of multi-host slices has exactly one replicated job, whose replicas are its slices (it has 2)',
    ],
    [
      'an indexed Job on a multi-host slice',
      { parallelism: 2 },
      422,
      'resources.tpu: a tpu-v5-lite-podslice 4x4 slice spans 4 hosts and runs as one pod per host',
    ],
  ])('refuses %s with a 422 and stores nothing', async (_name, spec, status, message) => {
    const before = await h.prisma.job.count();
    const refused = await submit({ command: ['true'], ...spec });
    expect(refused.status).toBe(status);
    expect(refused.body.detail).toContain(message);
    expect(await h.prisma.job.count()).toBe(before);
  });
});
