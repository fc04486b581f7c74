import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import { renderWithComponents } from './deploy/kustomize-render.js';
import { allows, rulesOf } from './deploy/rbac-rules.js';
import { call, type Harness, register, startHarness } from './support/harness.js';
import { preemptedStep } from './support/jobs-api.js';

type Condition = { type: string; status: string; reason?: string; message?: string };
type Workload = KubernetesObject & {
  spec: { queueName: string; podSets: { name: string; count: number }[] };
  status?: {
    admission?: {
      clusterQueue: string;
      podSetAssignments: { name: string; count: number; resourceUsage: Record<string, string> }[];
    };
    conditions?: Condition[];
  };
};

const NAMESPACE = 'roam-kqm-a';
const JOBSET = { apiVersion: 'jobset.x-k8s.io/v1alpha2', kind: 'JobSet' };
/** `r<job id without dashes>-<attempt>`, as the scheduler names an attempt's JobSet. */
const jobSetName = (id: string, attempt = 1) => `r${id.replaceAll('-', '')}-${attempt}`;

/**
 * ROAM_ADMISSION=kueue with multi-pod jobs: an indexed Job and a JobSet wait in Kueue
 * suspended, Kueue admits each as one Workload for all of its pods (the tenant's `pods` quota
 * counts every pod of the gang), and roam follows them as it does single jobs: phases, logs per
 * replica, /explain with Kueue's reason, cancel.
 */
describe('kueue mode: multi-pod jobs', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('kueue_multi', { ROAM_ADMISSION: 'kueue' });
    // The ClusterQueue's `pods` quota is max_concurrent_jobs: 4 pods at once.
    key = await register(h.url, 'kqm-a', { max_cpu: 8, max_memory_gi: 16, max_concurrent_jobs: 4 });
    await eventually(
      'the tenant to be ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'kqm-a' } }))?.status === 'ready',
    );
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const submit = async (spec: Record<string, unknown>): Promise<string> => {
    const response = await call(h.url, 'POST', '/api/v1/jobs', { image: 'busybox', ...spec }, key);
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const get = async (id: string) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, key)).body;
  const until = (id: string, status: string) =>
    eventually(
      `job ${id} to be ${status}`,
      async () => {
        const job = await get(id);
        if (job.status === 'failed' && status !== 'failed')
          throw new Error(`job failed: ${job.reason} ${job.message}`);
        return job.status === status && job;
      },
      // Within the test's own timeout, so a job that never gets there fails with this message.
      { timeoutMs: 45_000 },
    );
  const phases = async (id: string) =>
    (await h.prisma.jobHistory.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' } })).map(
      (row) => (row.reason ? `${row.phase}/${row.reason}` : row.phase),
    );
  const logs = async (id: string, replica: string) => {
    const response = await fetch(
      `${h.url}/api/v1/jobs/${id}/logs?replica=${encodeURIComponent(replica)}`,
      { headers: { authorization: `Bearer ${key}` } },
    );
    return { status: response.status, text: await response.text() };
  };
  const workloadOf = async (owner: string): Promise<Workload | undefined> => {
    const { items } = await h.kube.list<Workload>('kueue.x-k8s.io/v1beta1', 'Workload', {
      namespace: NAMESPACE,
    });
    return items.find((w) => w.metadata?.ownerReferences?.some((o) => o.name === owner));
  };
  /** A job's pods, or one attempt's. */
  const podsOf = async (id: string, attempt?: number) =>
    (
      await h.kube.list<KubernetesObject>('v1', 'Pod', {
        namespace: NAMESPACE,
        labelSelector: `roam.dev/job-id=${id}${attempt ? `,roam.dev/attempt=${attempt}` : ''}`,
      })
    ).items;
  const jobSet = (id: string) =>
    h.kube.get<KubernetesObject & { spec: { suspend?: boolean } }>({
      ...JOBSET,
      name: jobSetName(id),
      namespace: NAMESPACE,
    });
  const waitsInKueue = (id: string) =>
    eventually(`job ${id} to wait in Kueue`, async () => {
      const job = await get(id);
      return job.phase === 'Queued' && job.message?.startsWith('Kueue Pending') && job;
    });

  it('runs an indexed job of 3 pods admitted by Kueue as one Workload of 3 pods', async () => {
    const id = await submit({
      command: ['sh', '-c', 'echo "index=$JOB_COMPLETION_INDEX"'],
      parallelism: 3,
    });
    expect(await until(id, 'succeeded')).toMatchObject({ phase: 'Succeeded' });
    const history = (await phases(id)).filter((p) => !p.startsWith('Queued/'));
    expect(history).toEqual(['Submitted', 'Admitted/ContainerCreating', 'Running', 'Succeeded']);
    const kubeJob = await h.kube.get<KubernetesObject & { spec: Record<string, unknown> }>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: NAMESPACE,
    });
    expect(kubeJob?.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBe('user-queue');
    expect(kubeJob?.spec).toMatchObject({ suspend: false, completionMode: 'Indexed' });
    const workload = await workloadOf(`roam-${id}-1`);
    expect(workload?.spec.podSets.map((p) => [p.name, p.count])).toEqual([['main', 3]]);
    expect(workload?.status?.admission?.podSetAssignments).toEqual([
      expect.objectContaining({
        name: 'main',
        count: 3,
        resourceUsage: expect.objectContaining({ cpu: '300m', pods: '3' }),
      }),
    ]);
    for (const index of [0, 1, 2])
      expect(await logs(id, String(index))).toEqual({ status: 200, text: `index=${index}\n` });
  });

  it('runs a JobSet of a driver and 2 workers: one Workload with a pod set per replicated job', async () => {
    const id = await submit({
      command: ['sh', '-c', 'echo "driver up"'],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        {
          name: 'worker',
          replicas: 2,
          command: ['sh', '-c', 'echo "worker $ROAM_REPLICA_INDEX"'],
        },
      ],
    });
    expect(await until(id, 'succeeded')).toMatchObject({ phase: 'Succeeded' });
    const admitted = await h.prisma.jobHistory.findFirstOrThrow({
      where: { jobId: id, phase: 'Admitted' },
    });
    expect(admitted.message).toBe('admitted by Kueue in ClusterQueue roam-kqm-a');
    const workload = await workloadOf(jobSetName(id));
    expect(workload?.metadata?.name).toMatch(new RegExp(`^jobset-${jobSetName(id)}-[0-9a-f]{5}$`));
    expect(workload?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'JobSet' });
    expect(workload?.spec.podSets.map((p) => [p.name, p.count])).toEqual([
      ['driver', 1],
      ['worker', 2],
    ]);
    expect(
      workload?.status?.conditions?.find((c) => c.type === 'Finished' && c.status === 'True'),
    ).toMatchObject({ reason: 'Succeeded' });
    expect((await jobSet(id))?.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBe('user-queue');
    expect(await podsOf(id)).toHaveLength(3);
    expect(await logs(id, 'driver-0')).toEqual({ status: 200, text: 'driver up\n' });
    expect(await logs(id, 'worker-1')).toEqual({ status: 200, text: 'worker 1\n' });
  });

  it("keeps a gang larger than the ClusterQueue's quota pending with Kueue's reason in /explain", async () => {
    const id = await submit({ command: ['echo', 'never'], parallelism: 5 });
    const waiting = await waitsInKueue(id);
    // 5 pods never fit a `pods` quota of 4: Unschedulable, as roam mode calls such a gang.
    expect(waiting).toMatchObject({ status: 'pending', reason: 'Unschedulable' });
    const reason =
      "couldn't assign flavors to pod set main: insufficient quota for pods in flavor default-flavor, request > maximum capacity (5 > 4)";
    expect(waiting.message).toBe(`Kueue Pending: ${reason}`);
    const explained = await call(h.url, 'GET', `/api/v1/jobs/${id}/explain`, undefined, key);
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({
      pending: true,
      admission: 'kueue',
      reason: 'Unschedulable',
      kueue: { reason: 'Pending', message: reason, local_queue: 'user-queue' },
    });
    // Nothing of it holds quota, and its Job stays suspended.
    const workload = await workloadOf(`roam-${id}-1`);
    expect(workload?.status?.admission).toBeUndefined();
    await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    await until(id, 'cancelled');
    await eventually(
      'its Workload to be deleted',
      async () => (await workloadOf(`roam-${id}-1`)) === undefined,
    );
  });

  it('counts a running JobSet whole against the quota, and cancels a waiting and a running JobSet with their Workloads', async () => {
    const gang = (command: string) => ({
      command: ['sh', '-c', command],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        { name: 'worker', replicas: 2 },
      ],
    });
    const running = await submit(gang('sleep 3600'));
    await until(running, 'running');
    expect(await podsOf(running)).toHaveLength(3);
    // 3 of the 4 pods are taken: a second gang of 3 waits for the 2 it lacks.
    const waiting = await submit(gang('echo later'));
    const queued = await waitsInKueue(waiting);
    expect(queued).toMatchObject({ status: 'pending', reason: 'ConcurrencyLimit' });
    expect(queued.message).toContain(
      'insufficient unused quota for pods in flavor default-flavor, 2 more needed',
    );
    expect((await jobSet(waiting))?.spec.suspend).toBe(true);
    const explained = await call(h.url, 'GET', `/api/v1/jobs/${waiting}/explain`, undefined, key);
    expect(explained.body).toMatchObject({
      pending: true,
      reason: 'ConcurrencyLimit',
      kueue: { reason: 'Pending', position_in_local_queue: 0 },
    });

    // Cancel the waiting JobSet: it goes, and its Workload with it.
    const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${waiting}`, undefined, key);
    expect(cancelled.body.status).toBe('cancelled');
    await eventually(
      'the waiting JobSet deleted',
      async () => (await jobSet(waiting)) === undefined,
    );
    await eventually(
      'its Workload deleted',
      async () => (await workloadOf(jobSetName(waiting))) === undefined,
    );

    // A smaller gang waits behind the running one; cancelling the running JobSet frees its pods.
    const next = await submit({ command: ['echo', 'next'], parallelism: 2 });
    await waitsInKueue(next);
    await call(h.url, 'DELETE', `/api/v1/jobs/${running}`, undefined, key);
    await until(running, 'cancelled');
    await eventually(
      'the running JobSet deleted',
      async () => (await jobSet(running)) === undefined,
    );
    await eventually(
      'its Workload deleted',
      async () => (await workloadOf(jobSetName(running))) === undefined,
    );
    await eventually('its pods gone', async () => (await podsOf(running)).length === 0, {
      timeoutMs: 60_000,
    });
    await until(next, 'succeeded');
  }, 180_000);

  it('preempts a running JobSet Kueue preempts, whole, and runs its next attempt', async () => {
    const low = await submit({
      command: ['sh', '-c', 'sleep 3600'],
      priority: -50,
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        { name: 'worker', replicas: 2 },
      ],
    });
    await until(low, 'running');
    // 3 of 4 pods are the low gang's: a higher-priority gang of 2 makes Kueue evict it whole.
    const high = await submit({
      command: ['sh', '-c', 'sleep 2; echo urgent'],
      priority: 100,
      parallelism: 2,
    });
    const preempted = await preemptedStep(h.prisma, [low]);
    expect(preempted).toMatchObject({ status: 'pending', phase: 'Queued' });
    expect(await get(low)).toMatchObject({ attempt: 2 });
    expect(preempted.message).toMatch(
      /^Kueue Preempted: Preempted to accommodate a workload \(UID: .+\) due to prioritization in the ClusterQueue$/,
    );
    // The first attempt's JobSet goes whole, with every pod of the gang.
    await eventually('its first JobSet gone', async () => (await jobSet(low)) === undefined);
    // The first attempt's: once the high gang is done, the second attempt's pods may start
    // before this looks.
    await eventually('its pods gone', async () => (await podsOf(low, 1)).length === 0, {
      timeoutMs: 45_000,
    });
    await until(high, 'succeeded');
    // The high gang is done: Kueue admits the second attempt's JobSet, and all its pods run.
    expect(await until(low, 'running')).toMatchObject({ attempt: 2 });
    const history = await phases(low);
    expect(history).toContain('Queued/Preempted');
    expect(history.slice(-2)).toEqual(['Admitted/ContainerCreating', 'Running']);
    const second = await h.kube.get<KubernetesObject & { spec: { suspend?: boolean } }>({
      ...JOBSET,
      name: jobSetName(low, 2),
      namespace: NAMESPACE,
    });
    expect(second?.spec.suspend).toBe(false);
    await call(h.url, 'DELETE', `/api/v1/jobs/${low}`, undefined, key);
    await until(low, 'cancelled');
  }, 180_000);

  it("the kueue component's RBAC allows every Kubernetes call roam made for these jobs", () => {
    const objects = renderWithComponents('deploy/overlays/dev', ['deploy/components/kueue']);
    const calls = h.sim.calls.list('roam-');
    expect(calls.some((c) => c.group === 'jobset.x-k8s.io' && c.agent === 'roam-gateway')).toBe(
      true,
    );
    const missing = calls
      .filter((c) => !allows(rulesOf(objects, c.agent), c))
      .map((c) => `${c.agent}: ${c.verb} ${c.group ? `${c.group}/` : ''}${c.resource}`);
    expect([...new Set(missing)].sort()).toEqual([]);
  });
});
