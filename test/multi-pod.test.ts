import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import { call, type Harness, kubeJobDeleted, register, startHarness } from './support/harness.js';

const JOBSET = { apiVersion: 'jobset.x-k8s.io/v1alpha2', kind: 'JobSet' };
const NAMESPACE = 'roam-multi-a';

/** `r<job id without dashes>-<attempt>`, as the scheduler names an attempt's JobSet. */
const jobSetName = (id: string, attempt = 1) => `r${id.replaceAll('-', '')}-${attempt}`;

/**
 * Multi-pod jobs end to end through the HTTP API, with real Postgres, NATS and the Kubernetes
 * simulator: indexed Jobs, JobSets, per-replica logs, cancel, the pods-ready timeout, bad specs.
 */
describe('multi-pod jobs', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('multipod');
    key = await register(h.url, 'multi-a', {
      max_cpu: 16,
      max_memory_gi: 32,
      max_concurrent_jobs: 8,
    });
    await eventually(
      'the tenant to be ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'multi-a' } }))?.status === 'ready',
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
        return job.status === status && job;
      },
      { timeoutMs: 90_000 },
    );
  const logs = async (id: string, replica: string) => {
    const response = await fetch(
      `${h.url}/api/v1/jobs/${id}/logs?replica=${encodeURIComponent(replica)}`,
      { headers: { authorization: `Bearer ${key}` } },
    );
    return { status: response.status, text: await response.text() };
  };
  const podsOf = async (id: string, attempt = 1) =>
    (
      await h.kube.list<{ metadata?: { name?: string } }>('v1', 'Pod', {
        namespace: NAMESPACE,
        labelSelector: `roam.dev/job-id=${id},roam.dev/attempt=${attempt}`,
      })
    ).items;

  it('runs an indexed job of 3 pods, each with its own JOB_COMPLETION_INDEX and ROAM_REPLICA_INDEX', async () => {
    const id = await submit({
      command: ['sh', '-c', 'echo "index=$JOB_COMPLETION_INDEX replica=$ROAM_REPLICA_INDEX"'],
      parallelism: 3,
    });
    const job = await until(id, 'succeeded');
    expect(job.phase).toBe('Succeeded');
    const kubeJob = await h.kube.get<KubernetesObject & { spec: Record<string, unknown> }>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: NAMESPACE,
    });
    expect(kubeJob?.spec).toMatchObject({
      completionMode: 'Indexed',
      parallelism: 3,
      completions: 3,
    });
    expect(await podsOf(id)).toHaveLength(3);
    for (const index of [0, 1, 2]) {
      const log = await logs(id, String(index));
      expect(log.status).toBe(200);
      expect(log.text).toContain(`index=${index} replica=${index}`);
    }
    // The gang's quota is all of its pods: the row holds 3 × the default 100m.
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    expect(row.cpuMillis).toBe(300);
    expect(row.podSets).toEqual([
      { name: 'main', count: 3, cpuMillis: 100, memoryBytes: 128 * 1024 * 1024, gpu: 0 },
    ]);
    // An index the job does not have, and a JobSet-style name, are 404s; garbage is a 400.
    expect((await logs(id, '3')).status).toBe(404);
    expect((await logs(id, 'worker-0')).status).toBe(404);
    expect((await logs(id, 'Worker_0')).status).toBe(400);
  });

  it('runs a JobSet of a driver and 2 workers, with per-replica logs', async () => {
    const id = await submit({
      command: ['sh', '-c', 'echo "driver up"'],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        {
          name: 'worker',
          replicas: 2,
          command: ['sh', '-c', 'echo "worker $ROAM_REPLICATED_JOB/$ROAM_REPLICA_INDEX"'],
        },
      ],
      success_policy: { operator: 'all' },
    });
    const job = await until(id, 'succeeded');
    expect(job.phase).toBe('Succeeded');
    const jobSet = await h.kube.get<KubernetesObject & { spec: Record<string, unknown> }>({
      ...JOBSET,
      name: jobSetName(id),
      namespace: NAMESPACE,
    });
    expect(jobSet?.spec).toMatchObject({
      successPolicy: { operator: 'All' },
      failurePolicy: { maxRestarts: 0 },
    });
    expect(await podsOf(id)).toHaveLength(3);
    const worker1 = await logs(id, 'worker-1');
    expect(worker1.status).toBe(200);
    expect(worker1.text).toContain('worker worker/1');
    expect((await logs(id, 'driver-0')).text).toContain('driver up');
    expect((await logs(id, 'worker-2')).status).toBe(404);
    expect((await logs(id, 'ps-0')).status).toBe(404);
  });

  it('fails a JobSet whose worker fails once its restarts are used up', async () => {
    const id = await submit({
      command: ['sh', '-c', 'sleep 5'],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        { name: 'worker', replicas: 1, command: ['sh', '-c', 'exit 3'] },
      ],
      failure_policy: { max_restarts: 1 },
    });
    const job = await until(id, 'failed');
    expect(job.phase).toBe('Failed');
    const jobSet = await h.kube.get<KubernetesObject & { status?: { restarts?: number } }>({
      ...JOBSET,
      name: jobSetName(id),
      namespace: NAMESPACE,
    });
    expect(jobSet?.status?.restarts).toBe(1);
  });

  it('cancels a running JobSet: the JobSet and its pods go', async () => {
    const id = await submit({
      command: ['sh', '-c', 'sleep 3600'],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        { name: 'worker', replicas: 2 },
      ],
    });
    await until(id, 'running');
    expect(await podsOf(id)).toHaveLength(3);
    const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    await eventually(
      'the JobSet to be deleted',
      async () =>
        (await h.kube.get({ ...JOBSET, name: jobSetName(id), namespace: NAMESPACE })) === undefined,
    );
    await eventually('its pods to be gone', async () => (await podsOf(id)).length === 0, {
      timeoutMs: 60_000,
    });
  });

  it('requeues a gang whose pods are not all running within wait_for_pods_ready_seconds', async () => {
    const id = await submit({
      command: ['sh', '-c', 'sleep 3600'],
      parallelism: 2,
      // The simulator's kubelet holds each container back this long (simulated time).
      annotations: { 'sim.roam.dev/start-delay': '100h' },
      wait_for_pods_ready_seconds: 1,
      retry_policy: { max_attempts: 1, backoff: { initial_seconds: 1, max_seconds: 1 } },
    });
    const requeued = await eventually(
      'the job to be requeued as attempt 2',
      async () => {
        const job = await get(id);
        return job.attempt >= 2 && job;
      },
      { timeoutMs: 90_000 },
    );
    // Requeued, not failed: max_attempts 1 would have ended a failure.
    expect(requeued.status).not.toBe('failed');
    const history = await h.prisma.jobHistory.findMany({
      where: { jobId: id },
      orderBy: { seq: 'asc' },
    });
    const retry = history.find((row) => row.reason === 'RetryBackoff');
    expect(retry?.message).toContain('wait_for_pods_ready_seconds');
    await kubeJobDeleted(h, NAMESPACE, `roam-${id}-1`);
    await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
  });

  it('answers incoherent multi-pod specs with a 422 and writes nothing', async () => {
    const before = await h.prisma.job.count();
    const bad: [Record<string, unknown>, string][] = [
      [
        { command: ['true'], parallelism: 2, replicated_jobs: [{ name: 'w', replicas: 2 }] },
        'parallelism',
      ],
      [
        {
          command: ['true'],
          replicated_jobs: [
            { name: 'w', replicas: 1 },
            { name: 'w', replicas: 2 },
          ],
        },
        'replicated_jobs.1.name',
      ],
      [{ command: ['true'], success_policy: { operator: 'any' } }, 'success_policy'],
      [
        {
          command: ['true'],
          replicated_jobs: [{ name: 'w', replicas: 1 }],
          success_policy: { operator: 'any', target_replicated_jobs: ['driver'] },
        },
        'success_policy.target_replicated_jobs.0',
      ],
      [
        { command: ['true'], replicated_jobs: [{ name: 'w', replicas: 600, parallelism: 2 }] },
        'replicated_jobs',
      ],
      [{ command: ['true'], parallelism: 2, offload: 'allowed' }, 'offload'],
    ];
    for (const [spec, path] of bad) {
      const response = await call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', ...spec },
        key,
      );
      expect(response.status).toBe(422);
      expect(response.body.type).toBe('https://roam.dev/problems/invalid-multi-pod-job');
      expect(response.body.errors[0].path).toBe(path);
    }
    // Field bounds are the schema's: a 400.
    for (const spec of [
      { command: ['true'], parallelism: 1001 },
      { command: ['true'], replicated_jobs: [{ name: 'Bad_Name', replicas: 1 }] },
      { command: ['true'], replicated_jobs: [] },
    ]) {
      const response = await call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', ...spec },
        key,
      );
      expect(response.status).toBe(400);
    }
    expect(await h.prisma.job.count()).toBe(before);
  });
});
