import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import { createRoamApp } from '@roam/runtime';

import { offloadEnv } from '../apps/offload/src/offload.config.js';
import { OffloadModule } from '../apps/offload/src/offload.module.js';
import { renderWithComponents } from './deploy/kustomize-render.js';
import { allows, rulesOf } from './deploy/rbac-rules.js';
import { ADMIN_TOKEN, call, type Harness, register, startHarness } from './support/harness.js';
import { preemptedStep } from './support/jobs-api.js';

type Condition = { type: string; status: string; reason?: string; message?: string };
type Workload = KubernetesObject & {
  spec: { queueName: string };
  status?: { admission?: { clusterQueue: string }; conditions?: Condition[] };
};
type ClusterQueue = KubernetesObject & {
  spec: {
    cohort?: string;
    namespaceSelector?: unknown;
    resourceGroups: {
      flavors: { name: string; resources: { name: string; nominalQuota: string }[] }[];
    }[];
  };
};

/**
 * ROAM_ADMISSION=kueue end to end: tenants become a ClusterQueue and a LocalQueue, jobs are
 * created suspended in their LocalQueue, Kueue (the simulator's) admits their Workloads, and
 * roam follows: the same lifecycle, logs, quota waits and cancels as in roam mode.
 */
describe('kueue mode', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    // A small window, so the test below sees one tenant's backlog fill it.
    h = await startHarness('kueue', {
      ROAM_ADMISSION: 'kueue',
      ADMISSION_MAX_PENDING: '4',
      ADMISSION_MAX_PENDING_PER_TENANT: '3',
    });
    key = await register(h.url, 'kq-a', { max_cpu: 4, max_memory_gi: 8, max_concurrent_jobs: 2 });
    await eventually(
      'the tenant to be ready',
      async () => (await h.prisma.tenant.findUnique({ where: { id: 'kq-a' } }))?.status === 'ready',
    );
  });

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
    eventually(`job ${id} to be ${status}`, async () => {
      const job = await get(id);
      return job.status === status && job;
    });
  const phases = async (id: string) =>
    (await h.prisma.jobHistory.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' } })).map(
      (row) => (row.reason ? `${row.phase}/${row.reason}` : row.phase),
    );
  const kubeJob = (id: string) =>
    h.kube.get<{ metadata: { labels: Record<string, string> }; spec: { suspend?: boolean } }>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: 'roam-kq-a',
    });
  const workloadOf = async (id: string): Promise<Workload | undefined> => {
    const { items } = await h.kube.list<Workload>('kueue.x-k8s.io/v1beta1', 'Workload', {
      namespace: 'roam-kq-a',
    });
    return items.find((w) => w.metadata?.ownerReferences?.some((o) => o.name === `roam-${id}-1`));
  };
  const clusterQueue = (name: string) =>
    h.kube.get<ClusterQueue>({ apiVersion: 'kueue.x-k8s.io/v1beta1', kind: 'ClusterQueue', name });
  const quotaOf = (cq: ClusterQueue | undefined, resource: string) =>
    cq?.spec.resourceGroups[0]?.flavors[0]?.resources.find((r) => r.name === resource)
      ?.nominalQuota;

  it("provisions the tenant's ClusterQueue from its limits and its LocalQueue", async () => {
    const cq = await clusterQueue('roam-kq-a');
    expect(cq?.spec).toMatchObject({
      cohort: 'roam',
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'roam-kq-a' } },
    });
    expect(cq?.spec.resourceGroups[0]?.flavors[0]?.name).toBe('default-flavor');
    expect(quotaOf(cq, 'cpu')).toBe('4');
    expect(quotaOf(cq, 'memory')).toBe('8Gi');
    expect(quotaOf(cq, 'pods')).toBe('2');
    const lq = await h.kube.get<KubernetesObject & { spec: { clusterQueue: string } }>({
      apiVersion: 'kueue.x-k8s.io/v1beta1',
      kind: 'LocalQueue',
      name: 'user-queue',
      namespace: 'roam-kq-a',
    });
    expect(lq?.spec.clusterQueue).toBe('roam-kq-a');
  });

  it('runs a job Kueue admits to success, with logs, history and events', async () => {
    const id = await submit({ command: ['sh', '-c', 'echo hello from kueue; sleep 2; echo done'] });
    const logs = await fetch(`${h.url}/api/v1/jobs/${id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(logs.status).toBe(200);
    expect(await logs.text()).toBe('hello from kueue\ndone\n');
    const job = await until(id, 'succeeded');
    expect(job).toMatchObject({ phase: 'Succeeded', exit_code: 0 });
    // Queued only if roam saw Kueue's verdict before Kueue admitted it.
    const history = (await phases(id)).filter((p) => !p.startsWith('Queued/'));
    expect(history).toEqual(['Submitted', 'Admitted/ContainerCreating', 'Running', 'Succeeded']);
    const admittedRow = await h.prisma.jobHistory.findFirst({
      where: { jobId: id, phase: 'Admitted' },
    });
    expect(admittedRow?.message).toBe('admitted by Kueue in ClusterQueue roam-kq-a');
    const events = await h.prisma.event.findMany({
      where: { subject: `jobs/${id}` },
      orderBy: { position: 'asc' },
    });
    expect(events.map((e) => e.type).filter((t) => t !== subjects.job.queued)).toEqual([
      subjects.job.submitted,
      subjects.job.admitted,
      subjects.job.started,
      subjects.job.succeeded,
    ]);
    expect((await kubeJob(id))?.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'user-queue',
      'roam.dev/job-id': id,
    });
    const workload = await workloadOf(id);
    expect(workload?.spec.queueName).toBe('user-queue');
    expect(workload?.status?.admission?.clusterQueue).toBe('roam-kq-a');
  });

  it('retries a failed attempt as a new suspended Job that Kueue admits again', async () => {
    const id = await submit({
      command: ['sh', '-c', 'exit 7'],
      retry_policy: {
        max_attempts: 2,
        on_exit_codes: [7],
        backoff: { initial_seconds: 0, factor: 1, max_seconds: 0 },
      },
    });
    expect(await until(id, 'failed')).toMatchObject({ attempt: 2, exit_code: 7, reason: 'Error' });
    const history = await phases(id);
    expect(history).toContain('Queued/RetryBackoff');
    expect(history.filter((p) => p === 'Admitted/ContainerCreating')).toHaveLength(2);
    const second = await h.kube.get<KubernetesObject>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-2`,
      namespace: 'roam-kq-a',
    });
    expect(second?.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBe('user-queue');
  });

  it('waits for quota in Kueue with its reason, and cancels a waiting job with its Job and Workload', async () => {
    const first = await submit({ command: ['sleep', '100000'] });
    const second = await submit({ command: ['sleep', '100000'] });
    await until(first, 'running');
    await until(second, 'running');
    const third = await submit({ command: ['echo', 'third'] });
    const waiting = await eventually('the third job to wait in Kueue', async () => {
      const job = await get(third);
      return job.phase === 'Queued' && job.message?.startsWith('Kueue Pending') && job;
    });
    // Short of the `pods` quota (max_concurrent_jobs): roam's own reason, as in roam mode.
    expect(waiting).toMatchObject({ status: 'pending', reason: 'ConcurrencyLimit' });
    expect(waiting.message).toContain(
      'insufficient unused quota for pods in flavor default-flavor',
    );
    expect((await kubeJob(third))?.spec.suspend).toBe(true);

    const explained = await call(h.url, 'GET', `/api/v1/jobs/${third}/explain`, undefined, key);
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({
      pending: true,
      admission: 'kueue',
      reason: 'ConcurrencyLimit',
      kueue: { reason: 'Pending', local_queue: 'user-queue', position_in_local_queue: 0 },
    });
    expect(explained.body.kueue.message).toContain('insufficient unused quota for pods');

    const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${third}`, undefined, key);
    expect(cancelled.body.status).toBe('cancelled');
    await eventually('the Job to be deleted', async () => (await kubeJob(third)) === undefined);
    await eventually(
      'the Workload to be deleted',
      async () => (await workloadOf(third)) === undefined,
    );

    // Quota frees when a running job ends: the next waiting job is admitted and runs.
    const fourth = await submit({ command: ['echo', 'fourth'] });
    await eventually('the fourth job to wait', async () => (await get(fourth)).phase === 'Queued');
    await call(h.url, 'DELETE', `/api/v1/jobs/${first}`, undefined, key);
    await until(fourth, 'succeeded');
    const admitted = await h.prisma.job.findUniqueOrThrow({ where: { id: fourth } });
    const firstDone = await h.prisma.job.findUniqueOrThrow({ where: { id: first } });
    expect(admitted.admittedAt!.getTime()).toBeGreaterThanOrEqual(firstDone.finishedAt!.getTime());
    await call(h.url, 'DELETE', `/api/v1/jobs/${second}`, undefined, key);
    await until(second, 'cancelled');
  });

  it('marks a job Lost when its suspended Job is deleted while it waits in Kueue, and retries it as roam mode does', async () => {
    const sleepers = [
      await submit({ command: ['sleep', '100000'] }),
      await submit({ command: ['sleep', '100000'] }),
    ];
    for (const id of sleepers) await until(id, 'running');
    const once = await submit({ command: ['echo', 'once'] });
    const retried = await submit({
      command: ['echo', 'retried'],
      retry_policy: {
        max_attempts: 2,
        on_reasons: ['Lost'],
        backoff: { initial_seconds: 0, factor: 1, max_seconds: 0 },
      },
    });
    for (const id of [once, retried])
      await eventually(`job ${id} to wait in Kueue`, async () => {
        const job = await h.prisma.job.findUniqueOrThrow({ where: { id } });
        return job.phase === 'Queued' && job.placement !== null;
      });
    for (const id of [once, retried])
      await h.kube.delete(
        { apiVersion: 'batch/v1', kind: 'Job', name: `roam-${id}-1`, namespace: 'roam-kq-a' },
        'Background',
      );

    expect(await until(once, 'failed')).toMatchObject({ phase: 'Failed', reason: 'Lost' });
    expect((await get(once)).message).toBe(
      'the Kubernetes Job no longer exists; the retry policy allows a single attempt',
    );
    await eventually('the second attempt to wait in Kueue with its own Job', async () => {
      const job = await h.prisma.job.findUniqueOrThrow({ where: { id: retried } });
      return job.attempt === 2 && job.phase === 'Queued' && job.placement !== null;
    });
    expect(await phases(retried)).toContain('Queued/RetryBackoff');
    const events = await h.prisma.event.findMany({ where: { subject: `jobs/${once}` } });
    expect(events.map((e) => e.type)).toContain(subjects.job.failed);

    // Quota frees: the second attempt runs to success.
    for (const id of sleepers) await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    expect(await until(retried, 'succeeded')).toMatchObject({ attempt: 2 });
  });

  it('preempts a running job Kueue preempts, as roam mode does, and runs its next attempt', async () => {
    const sleepers = [
      await submit({ command: ['sleep', '100000'] }),
      await submit({ command: ['sleep', '100000'] }),
    ];
    for (const id of sleepers) await until(id, 'running');
    // A workload of a higher priority class in the tenant's LocalQueue: Kueue preempts the
    // lowest-priority (then newest) workload in the ClusterQueue to make room for it.
    await h.kube.create({
      apiVersion: 'kueue.x-k8s.io/v1beta1',
      kind: 'WorkloadPriorityClass',
      metadata: { name: 'urgent' },
      value: 100,
    });
    const urgent = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'urgent',
        namespace: 'roam-kq-a',
        labels: {
          'kueue.x-k8s.io/queue-name': 'user-queue',
          'kueue.x-k8s.io/priority-class': 'urgent',
        },
      },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'main',
                image: 'busybox',
                command: ['sleep', '100000'],
                resources: {
                  requests: { cpu: '100m', memory: '64Mi' },
                  limits: { memory: '64Mi' },
                },
              },
            ],
          },
        },
      },
    };
    await h.kube.create(urgent);
    const queued = await preemptedStep(h.prisma, sleepers);
    const preempted = queued.jobId;
    const other = sleepers.find((id) => id !== preempted)!;
    // roam's ledger: Queued/Preempted, a new attempt that uses no retry, job.preempted.
    expect(queued).toMatchObject({ status: 'pending', phase: 'Queued' });
    expect(await get(preempted)).toMatchObject({ status: 'pending', attempt: 2 });
    expect(queued.message).toMatch(
      /^Kueue Preempted: Preempted to accommodate a workload \(UID: .+\) due to prioritization in the ClusterQueue$/,
    );
    expect((await h.prisma.job.findUniqueOrThrow({ where: { id: preempted } })).preemptions).toBe(
      1,
    );
    expect((await get(other)).status).toBe('running');
    // The preempted attempt's Job goes, and Kueue's Workload with it: Kueue never readmits it.
    await eventually(
      "the first attempt's Job to be deleted",
      async () => (await kubeJob(preempted)) === undefined,
    );
    const explained = await call(h.url, 'GET', `/api/v1/jobs/${preempted}/explain`, undefined, key);
    expect(explained.body.last_preemption?.message).toBe(queued.message);
    const events = await h.prisma.event.findMany({
      where: { subject: `jobs/${preempted}` },
      orderBy: { position: 'asc' },
    });
    expect(events.map((e) => e.type)).toContain(subjects.job.preempted);

    // The urgent work ends: Kueue admits the second attempt's Job and it runs.
    await h.kube.delete(
      { apiVersion: 'batch/v1', kind: 'Job', name: 'urgent', namespace: 'roam-kq-a' },
      'Background',
    );
    expect(await until(preempted, 'running')).toMatchObject({ attempt: 2 });
    const history = await phases(preempted);
    expect(history).toContain('Queued/Preempted');
    expect(history).not.toContain('Queued/RetryBackoff');
    expect(history.slice(-2)).toEqual(['Admitted/ContainerCreating', 'Running']);
    for (const id of sleepers) await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    for (const id of sleepers) await until(id, 'cancelled');
  });

  it('offloads a GPU job Kueue has not admitted within KUEUE_OFFLOAD_AFTER_SECONDS, its Kueue Job and Workload removed', async () => {
    const gpuKey = await register(h.url, 'kq-gpu', {
      max_cpu: 8,
      max_memory_gi: 16,
      max_gpu: 1,
      max_concurrent_jobs: 2,
      offload_budget_usd: null,
    });
    await eventually(
      'the GPU tenant ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'kq-gpu' } }))?.status === 'ready',
    );
    const worker = await createRoamApp({
      name: 'offload',
      schema: offloadEnv,
      module: OffloadModule,
      env: {
        ...h.env,
        RUNPOD_API_URL: `${h.sim.runpodUrl}/v1`,
        RUNPOD_API_KEY: 'sim-key',
        MAX_GPU_PRICE: '5',
        OFFLOAD_DENY_GPU_TYPES: '',
        KUEUE_OFFLOAD_AFTER_SECONDS: '1',
      },
    });
    try {
      const gpuJob = async (offload: string, command: string[]) => {
        const response = await call(
          h.url,
          'POST',
          '/api/v1/jobs',
          { image: 'trainer:1', command, resources: { cpu: '1', memory: '1Gi', gpu: 1 }, offload },
          gpuKey,
        );
        expect(response.status).toBe(201);
        return response.body.id as string;
      };
      // The tenant's one GPU of Kueue quota is taken: the next GPU job waits in Kueue.
      const holder = await gpuJob('never', ['sleep', '100000']);
      await eventually('the first GPU job admitted by Kueue', async () => {
        const job = await h.prisma.job.findUniqueOrThrow({ where: { id: holder } });
        return job.admittedAt !== null;
      });
      const waiting = await gpuJob('allowed', ['sh', '-c', 'echo trained']);
      const done = await eventually('the waiting GPU job to finish on RunPod', async () => {
        const job = await call(h.url, 'GET', `/api/v1/jobs/${waiting}`, undefined, gpuKey);
        return job.body.status === 'succeeded' && job.body;
      });
      expect(done.placement.runpod_pod_id).toBeTruthy();
      const history = (
        await h.prisma.jobHistory.findMany({ where: { jobId: waiting }, orderBy: { seq: 'asc' } })
      ).map((row) => (row.reason ? `${row.phase}/${row.reason}` : row.phase));
      expect(history).toEqual([
        'Submitted',
        'Queued/WaitingForQuota',
        'Running/Offloaded',
        'Succeeded',
      ]);
      const offloaded = await h.prisma.jobHistory.findFirstOrThrow({
        where: { jobId: waiting, reason: 'Offloaded' },
      });
      expect(offloaded.message).toContain('Kueue has not admitted it in 1 s');
      // Its Job is the offload's own now: no queue label, so no Workload, nothing Kueue could run.
      const job = await h.kube.get<KubernetesObject>({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: `roam-${waiting}-1`,
        namespace: 'roam-kq-gpu',
      });
      expect(job?.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBeUndefined();
      const { items } = await h.kube.list<Workload>('kueue.x-k8s.io/v1beta1', 'Workload', {
        namespace: 'roam-kq-gpu',
      });
      expect(
        items.filter((w) =>
          w.metadata?.ownerReferences?.some((o) => o.name === `roam-${waiting}-1`),
        ),
      ).toEqual([]);
      await call(h.url, 'DELETE', `/api/v1/jobs/${holder}`, undefined, gpuKey);
    } finally {
      await worker.close();
    }
  });

  it("does not let one tenant's backlog keep another tenant's jobs from Kueue", async () => {
    const running = [
      await submit({ command: ['sleep', '100000'] }),
      await submit({ command: ['sleep', '100000'] }),
    ];
    for (const id of running) await until(id, 'running');
    const backlog: string[] = [];
    for (let i = 0; i < 4; i += 1) backlog.push(await submit({ command: ['echo', String(i)] }));
    await eventually(
      'the backlog to wait in Kueue',
      async () => (await get(backlog[0]!)).phase === 'Queued',
    );
    const other = await register(h.url, 'kq-b', {
      max_cpu: 1,
      max_memory_gi: 1,
      max_concurrent_jobs: 1,
    });
    await eventually(
      'tenant b ready',
      async () => (await h.prisma.tenant.findUnique({ where: { id: 'kq-b' } }))?.status === 'ready',
    );
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', command: ['echo', 'b'] },
      other,
    );
    expect(response.status).toBe(201);
    await eventually('tenant b job to succeed', async () => {
      const job = await call(h.url, 'GET', `/api/v1/jobs/${response.body.id}`, undefined, other);
      return job.body.status === 'succeeded';
    });
    for (const id of [...running, ...backlog])
      await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
  });

  it("updates the ClusterQueue when the tenant's limits change, and removes it with the tenant", async () => {
    const patched = await call(
      h.url,
      'PATCH',
      '/api/v1/tenants/kq-a',
      { max_cpu: 6, max_concurrent_jobs: 3 },
      ADMIN_TOKEN,
    );
    expect(patched.status).toBe(200);
    await eventually(
      'the new quota',
      async () => quotaOf(await clusterQueue('roam-kq-a'), 'cpu') === '6',
    );
    expect(quotaOf(await clusterQueue('roam-kq-a'), 'pods')).toBe('3');

    await register(h.url, 'kq-gone', { max_cpu: 1, max_memory_gi: 1, max_concurrent_jobs: 1 });
    await eventually(
      'its ClusterQueue',
      async () => (await clusterQueue('roam-kq-gone')) !== undefined,
    );
    const deleted = await call(h.url, 'DELETE', '/api/v1/tenants/kq-gone', undefined, ADMIN_TOKEN);
    expect(deleted.status).toBeLessThan(300);
    // The delete goes through the scheduler's consumer, which may still be working through the
    // previous test's cancels: on a loaded CI machine that outlasted the default 15 s wait.
    await eventually(
      'its ClusterQueue removed',
      async () => (await clusterQueue('roam-kq-gone')) === undefined,
      { timeoutMs: 60_000 },
    );
  }, 120_000);

  it("the kueue component's RBAC allows every Kubernetes call roam made in this mode", () => {
    const objects = renderWithComponents('deploy/overlays/dev', ['deploy/components/kueue']);
    const calls = h.sim.calls.list('roam-');
    expect(calls.some((c) => c.group === 'kueue.x-k8s.io' && c.agent === 'roam-scheduler')).toBe(
      true,
    );
    expect(calls.some((c) => c.group === 'kueue.x-k8s.io' && c.agent === 'roam-gateway')).toBe(
      true,
    );
    const missing = calls
      .filter((c) => !allows(rulesOf(objects, c.agent), c))
      .map((c) => `${c.agent}: ${c.verb} ${c.group ? `${c.group}/` : ''}${c.resource}`);
    expect([...new Set(missing)].sort()).toEqual([]);
  });
});
