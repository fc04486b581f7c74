import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import {
  ADMIN_TOKEN,
  call,
  type Harness,
  kubeJobDeleted,
  register,
  startHarness,
} from './support/harness.js';

type Condition = { type: string; status: string; reason?: string; message?: string };
type Workload = KubernetesObject & {
  status?: {
    admission?: { clusterQueue: string; podSetAssignments: { flavors: Record<string, string> }[] };
    conditions?: Condition[];
  };
};
type ClusterQueue = KubernetesObject & {
  spec: {
    cohort?: string;
    preemption?: Record<string, unknown>;
    resourceGroups: {
      coveredResources: string[];
      flavors: { name: string; resources: Record<string, string>[] }[];
    }[];
  };
};

const KUEUE = 'kueue.x-k8s.io/v1beta1';

/**
 * ROAM_ADMISSION=kueue with roam's cohorts and GPU types (docs/scheduling.md#kueue-quota): two
 * tenants in the roam cohort `research` are ClusterQueues in the Kueue cohort
 * `roam-cohort-research`; one borrows the other's idle guarantee, and the owner's job reclaims
 * it (Kueue preempts the borrower's workload, roam requeues the job and says so). A tenant's
 * per-type GPU quota is a ResourceFlavor of its own that Kueue enforces.
 */
describe('kueue mode: cohorts, borrowing, reclaim and GPU flavors', () => {
  let h: Harness;
  let a: string;
  let b: string;
  let g: string;

  beforeAll(async () => {
    h = await startHarness(
      'kueue-cohorts',
      { ROAM_ADMISSION: 'kueue' },
      {
        world: {
          pools: [
            { name: 'cpu', nodes: 1, capacity: { cpu: '8', memory: '32Gi', pods: '110' } },
            {
              name: 'l4',
              nodes: 1,
              capacity: { cpu: '48', memory: '192Gi', pods: '110', 'nvidia.com/gpu': '8' },
              labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
            },
            {
              // A multi-host v5e 4x4 slice: 16 chips on four 4-chip hosts.
              name: 'v5e-4x4',
              nodes: 4,
              capacity: { cpu: '112', memory: '192Gi', pods: '110', 'google.com/tpu': '4' },
              labels: {
                'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
                'cloud.google.com/gke-tpu-topology': '4x4',
                'cloud.google.com/gke-accelerator-count': '4',
              },
            },
          ],
        },
      },
    );
    const limits = { max_cpu: 2, max_memory_gi: 8, max_concurrent_jobs: 10 };
    a = await register(h.url, 'kc-a', limits);
    b = await register(h.url, 'kc-b', limits);
    for (const id of ['kc-a', 'kc-b']) {
      const joined = await call(
        h.url,
        'PATCH',
        `/api/v1/tenants/${id}`,
        { cohort: 'research' },
        ADMIN_TOKEN,
      );
      expect(joined.status).toBe(200);
    }
    g = await register(h.url, 'kc-g', {
      max_cpu: 8,
      max_memory_gi: 16,
      max_concurrent_jobs: 10,
      max_gpu: 1,
    });
    const typed = await call(
      h.url,
      'PATCH',
      '/api/v1/tenants/kc-g',
      { max_gpu: { 'nvidia-l4': 1 } },
      ADMIN_TOKEN,
    );
    expect(typed.status).toBe(200);
    await eventually('the tenants to be ready with their latest limits', async () => {
      const ready = await h.prisma.tenant.findMany({ where: { status: 'ready' } });
      return ready.filter((t) => t.provisionedGeneration === t.generation).length === 3;
    });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const clusterQueue = (name: string) =>
    h.kube.get<ClusterQueue>({ apiVersion: KUEUE, kind: 'ClusterQueue', name });
  const submit = async (key: string, spec: Record<string, unknown>) => {
    const response = await call(h.url, 'POST', '/api/v1/jobs', { image: 'busybox', ...spec }, key);
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const job = (id: string) => h.prisma.job.findUniqueOrThrow({ where: { id } });
  const history = async (id: string) =>
    h.prisma.jobHistory.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' } });
  const workloadOf = async (namespace: string, id: string): Promise<Workload | undefined> => {
    const { items } = await h.kube.list<Workload>(KUEUE, 'Workload', { namespace });
    return items.find((w) =>
      w.metadata?.ownerReferences?.some((o) => o.name?.startsWith(`roam-${id}-`)),
    );
  };

  it("maps the roam cohort to a Kueue cohort with roam's preemption rules", async () => {
    const cq = await clusterQueue('roam-kc-a');
    expect(cq?.spec.cohort).toBe('roam-cohort-research');
    expect(cq?.spec.preemption).toEqual({
      withinClusterQueue: 'LowerPriority',
      reclaimWithinCohort: 'Any',
      borrowWithinCohort: { policy: 'Never' },
    });
    const cpu = cq?.spec.resourceGroups[0]?.flavors[0]?.resources.find((r) => r.name === 'cpu');
    // Nominal quota is the guarantee; no borrowing limit: whatever the cohort has idle.
    expect(cpu).toEqual({ name: 'cpu', nominalQuota: '2' });
  });

  it("lends b's idle guarantee to a, then Kueue reclaims it for b and roam requeues a's job", async () => {
    // The simulator runs `sleep` 200× faster: a's jobs run 20 s, b's 2 s.
    const long = { command: ['sleep', '4000'], resources: { cpu: '2', memory: '1Gi' } };
    const a1 = await submit(a, long);
    await eventually('a1 to run', async () => (await job(a1)).status === 'running');
    const a2 = await submit(a, long);
    await eventually('a2 to run on borrowed quota', async () => {
      const j = await job(a2);
      if (j.status !== 'running') throw new Error(`${j.phase}/${j.reason}: ${j.message}`);
      return true;
    });
    // Both in a's ClusterQueue: 4 CPU against a nominal quota of 2.
    expect((await workloadOf('roam-kc-a', a2))?.status?.admission?.clusterQueue).toBe('roam-kc-a');

    const b1 = await submit(b, {
      command: ['sleep', '400'],
      resources: { cpu: '2', memory: '1Gi' },
    });
    // Kueue evicts a's newest borrowed workload for b's, which fits b's nominal quota.
    const preempted = await eventually('a2 to be preempted by Kueue', async () => {
      const rows = await history(a2);
      const found = rows.find((r) => /reclamation within the cohort/.test(r.message ?? ''));
      if (found) return found;
      const j = await job(b1);
      const w = await workloadOf('roam-kc-b', b1);
      throw new Error(`b1 ${j.phase}/${j.reason}: ${j.message}; ${JSON.stringify(w?.status)}`);
    });
    // roam's ledger says so, as in roam mode: Queued/Preempted, job.preempted, a new attempt
    // that uses no retry, and /explain names Kueue's reason.
    expect([preempted.phase, preempted.reason]).toEqual(['Queued', 'Preempted']);
    expect(preempted.message).toMatch(/^Kueue Preempted: Preempted to accommodate a workload/);
    const event = await h.prisma.event.findFirst({
      where: { subject: `jobs/${a2}`, type: subjects.job.preempted },
    });
    expect(event).not.toBeNull();
    const explained = await call(h.url, 'GET', `/api/v1/jobs/${a2}/explain`, undefined, a);
    expect(explained.body.last_preemption?.message).toBe(preempted.message);
    // Its first attempt's Job goes (and Kueue's Workload with it): Kueue never readmits it.
    await kubeJobDeleted(h, 'roam-kc-a', `roam-${a2}-1`);
    await eventually(
      'b1 to succeed',
      async () => {
        const j = await job(b1);
        if (j.status !== 'succeeded') throw new Error(`${j.phase}/${j.reason}: ${j.message}`);
        return true;
      },
      { timeoutMs: 60_000 },
    );
    // a1 was within a's guarantee: untouched.
    expect((await job(a1)).preemptions).toBe(0);
    // a2's second attempt is admitted once b's job is done, and runs to the end.
    const done = await eventually(
      'a2 to succeed',
      async () => {
        const j = await job(a2);
        return j.status === 'succeeded' && j;
      },
      { timeoutMs: 90_000 },
    );
    expect(done).toMatchObject({ phase: 'Succeeded', attempt: 2, preemptions: 1 });
    const phases = (await history(a2)).map((r) => (r.reason ? `${r.phase}/${r.reason}` : r.phase));
    expect(phases).not.toContain('Queued/RetryBackoff');
    expect(phases.filter((p) => p === 'Running').length).toBe(2);
  }, 180_000);

  it('enforces a per-type GPU quota with a ResourceFlavor of that type', async () => {
    const cq = await clusterQueue('roam-kc-g');
    const gpuGroup = cq?.spec.resourceGroups.find((grp) =>
      grp.coveredResources.includes('nvidia.com/gpu'),
    );
    expect(gpuGroup?.flavors.map((f) => [f.name, f.resources[0]?.nominalQuota])).toEqual([
      ['roam-gpu-nvidia-l4', '1'],
    ]);
    const flavor = await h.kube.get<KubernetesObject & { spec: { nodeLabels: unknown } }>({
      apiVersion: KUEUE,
      kind: 'ResourceFlavor',
      name: 'roam-gpu-nvidia-l4',
    });
    expect(flavor?.spec.nodeLabels).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(flavor?.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'roam' });

    const l4 = {
      command: ['sleep', '100000'],
      resources: { cpu: '1', memory: '1Gi', gpu: { count: 1, type: 'nvidia-l4' } },
    };
    const first = await submit(g, l4);
    await eventually(
      'the first L4 job to run',
      async () => (await job(first)).status === 'running',
    );
    expect(
      (await workloadOf('roam-kc-g', first))?.status?.admission?.podSetAssignments[0]?.flavors,
    ).toMatchObject({ 'nvidia.com/gpu': 'roam-gpu-nvidia-l4', cpu: 'default-flavor' });
    // The node has 8 L4s, the tenant's L4 quota is 1: Kueue holds the second.
    const second = await submit(g, l4);
    const waiting = await eventually('the second L4 job to wait for Kueue', async () => {
      const j = await job(second);
      return j.phase === 'Queued' && j.reason === 'WaitingForQuota' && j;
    });
    expect(waiting.message).toMatch(
      /insufficient unused quota for nvidia\.com\/gpu in flavor roam-gpu-nvidia-l4, 1 more needed/,
    );
    expect((await call(h.url, 'DELETE', `/api/v1/jobs/${first}`, undefined, g)).status).toBe(200);
    await eventually(
      'the second L4 job to run',
      async () => (await job(second)).status === 'running',
    );
    await call(h.url, 'DELETE', `/api/v1/jobs/${second}`, undefined, g);
  }, 120_000);

  it('runs a multi-host TPU slice Kueue admits with its headless Service, counting every chip in its type flavor', async () => {
    const typed = await call(
      h.url,
      'PATCH',
      '/api/v1/tenants/kc-g',
      { max_tpu: { 'tpu-v5-lite-podslice': 16 } },
      ADMIN_TOKEN,
    );
    expect(typed.status).toBe(200);
    await eventually('kc-g to have its TPU flavor', async () => {
      const cq = await clusterQueue('roam-kc-g');
      const tpu = cq?.spec.resourceGroups.find((grp) =>
        grp.coveredResources.includes('google.com/tpu'),
      );
      return tpu?.flavors[0]?.name === 'roam-tpu-tpu-v5-lite-podslice';
    });
    const slice = {
      command: ['sh', '-c', 'echo "host $TPU_WORKER_ID of $TPU_WORKER_HOSTNAMES"; sleep 100000'],
      resources: {
        cpu: '1',
        memory: '1Gi',
        tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' },
      },
    };
    const first = await submit(g, slice);
    await eventually('the slice to run', async () => (await job(first)).status === 'running');
    const workload = await workloadOf('roam-kc-g', first);
    expect(workload?.status?.admission?.podSetAssignments[0]?.flavors).toMatchObject({
      'google.com/tpu': 'roam-tpu-tpu-v5-lite-podslice',
    });
    const kubeJob = await h.kube.get<
      KubernetesObject & {
        spec: { parallelism: number; template: { spec: { subdomain?: string } } };
      }
    >({ apiVersion: 'batch/v1', kind: 'Job', name: `roam-${first}-1`, namespace: 'roam-kc-g' });
    expect(kubeJob?.spec.parallelism).toBe(4);
    expect(kubeJob?.spec.template.spec.subdomain).toBe(`roam-${first}-1`);
    const service = await h.kube.get<KubernetesObject & { spec: Record<string, unknown> }>({
      apiVersion: 'v1',
      kind: 'Service',
      name: `roam-${first}-1`,
      namespace: 'roam-kc-g',
    });
    expect(service?.spec).toMatchObject({
      clusterIP: 'None',
      selector: { 'roam.dev/job-id': first, 'roam.dev/attempt': '1' },
    });
    // 4 hosts × 4 chips = the tenant's 16: a second slice waits for Kueue's TPU quota.
    const second = await submit(g, slice);
    const waiting = await eventually('the second slice to wait for Kueue', async () => {
      const j = await job(second);
      return j.phase === 'Queued' && /google\.com\/tpu/.test(j.message ?? '') && j;
    });
    expect(waiting.message).toMatch(
      /insufficient unused quota for google\.com\/tpu in flavor roam-tpu-tpu-v5-lite-podslice, 16 more needed/,
    );
    for (const id of [first, second])
      await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, g);
  }, 120_000);

  it('writes a WorkloadPriorityClass per admin priority class, labels jobs with it, and removes it with the class', async () => {
    const put = await call(
      h.url,
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: [{ name: 'urgent', value: 500 }] },
      ADMIN_TOKEN,
    );
    expect(put.status).toBe(200);
    const id = await submit(g, {
      command: ['sleep', '100000'],
      priority_class: 'urgent',
      resources: { cpu: '1', memory: '1Gi' },
    });
    const kubeJob = await eventually('its Job', () =>
      h.kube.get<KubernetesObject>({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: `roam-${id}-1`,
        namespace: 'roam-kc-g',
      }),
    );
    expect(kubeJob.metadata?.labels?.['kueue.x-k8s.io/priority-class']).toBe('roam-pc-urgent');
    const wpc = await h.kube.get<KubernetesObject & { value: number }>({
      apiVersion: KUEUE,
      kind: 'WorkloadPriorityClass',
      name: 'roam-pc-urgent',
    });
    expect(wpc?.value).toBe(500);
    const workload = (await eventually('its Workload', () => workloadOf('roam-kc-g', id))) as
      (Workload & { spec?: { priority?: number } }) | undefined;
    expect(workload?.spec?.priority).toBe(500);
    await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, g);

    const cleared = await call(
      h.url,
      'PUT',
      '/api/v1/admin/priority-classes',
      { items: [] },
      ADMIN_TOKEN,
    );
    expect(cleared.status).toBe(200);
    await eventually(
      'the class to be removed',
      async () =>
        (await h.kube.get({
          apiVersion: KUEUE,
          kind: 'WorkloadPriorityClass',
          name: 'roam-pc-urgent',
        })) === undefined,
    );
    // The bands stay.
    expect(
      await h.kube.get({ apiVersion: KUEUE, kind: 'WorkloadPriorityClass', name: 'roam-high' }),
    ).toBeDefined();
  });

  it('converges a tenant that leaves its cohort back to a capped queue', async () => {
    const left = await call(h.url, 'PATCH', '/api/v1/tenants/kc-b', { cohort: null }, ADMIN_TOKEN);
    expect(left.status).toBe(200);
    await eventually('kc-b to be capped again', async () => {
      const cq = await clusterQueue('roam-kc-b');
      const cpu = cq?.spec.resourceGroups[0]?.flavors[0]?.resources.find((r) => r.name === 'cpu');
      return (
        cq?.spec.cohort === 'roam' &&
        cq.spec.preemption?.reclaimWithinCohort === 'Never' &&
        cpu?.borrowingLimit === '0'
      );
    });
  });
});
