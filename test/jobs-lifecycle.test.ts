import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { call, type Harness, kubeJobDeleted, register, startHarness } from './support/harness.js';

/**
 * Jobs end to end through the HTTP API, with real Postgres, NATS and the Kubernetes
 * simulator: gateway → outbox → scheduler (admission, Kubernetes Job) → simulator →
 * reconciler (state, history, events).
 */
describe('job lifecycle', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('lifecycle');
    key = await register(h.url, 'life-a', {
      max_cpu: 16,
      max_memory_gi: 32,
      max_concurrent_jobs: 8,
    });
    await eventually(
      'the tenant to be ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'life-a' } }))?.status === 'ready',
    );
  });

  afterAll(async () => {
    await h?.close();
  });

  const submit = async (spec: Record<string, unknown>, as = key): Promise<string> => {
    const response = await call(h.url, 'POST', '/api/v1/jobs', { image: 'busybox', ...spec }, as);
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  const get = async (id: string, as = key) =>
    (await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, as)).body;
  const until = (id: string, status: string, as = key) =>
    eventually(`job ${id} to be ${status}`, async () => {
      const job = await get(id, as);
      return job.status === status && job;
    });
  const phases = async (id: string) =>
    (await h.prisma.jobHistory.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' } })).map(
      (row) => (row.reason ? `${row.phase}/${row.reason}` : row.phase),
    );
  const kubeJob = (id: string, attempt = 1, namespace = 'roam-life-a') =>
    h.kube.get({ apiVersion: 'batch/v1', kind: 'Job', name: `roam-${id}-${attempt}`, namespace });

  it('runs a job to success, with history, events, placement and a labelled Kubernetes Job', async () => {
    const id = await submit({ command: ['sh', '-c', 'echo hello; sleep 2'] });
    const job = await until(id, 'succeeded');
    expect(job).toMatchObject({ phase: 'Succeeded', exit_code: 0, attempt: 1 });
    expect(job.started_at).not.toBeNull();
    expect(new Date(job.completed_at).getTime()).toBeGreaterThanOrEqual(
      new Date(job.started_at).getTime(),
    );
    expect(job.placement).toMatchObject({ namespace: 'roam-life-a', job: `roam-${id}-1` });
    expect(job.placement.node).toEqual(expect.any(String));
    expect(await phases(id)).toEqual([
      'Submitted',
      'Admitted/ContainerCreating',
      'Running',
      'Succeeded',
    ]);

    const events = await h.prisma.event.findMany({
      where: { subject: `jobs/${id}` },
      orderBy: { position: 'asc' },
    });
    expect(events.map((event) => event.type)).toEqual([
      subjects.job.submitted,
      subjects.job.admitted,
      subjects.job.started,
      subjects.job.succeeded,
    ]);
    expect(events.map((event) => (event.envelope as { seq: number }).seq)).toEqual([1, 2, 3, 4]);

    const object = await kubeJob(id);
    expect(object?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'roam',
      'roam.dev/job-id': id,
      'roam.dev/tenant': 'life-a',
      'roam.dev/attempt': '1',
    });
  });

  it('follows the log right after submitting: waits for the pod, streams every line, ends with the job', async () => {
    const id = await submit({ command: ['sh', '-c', 'echo hello from roam; sleep 2; echo done'] });
    const response = await fetch(`${h.url}/api/v1/jobs/${id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from roam\ndone\n');
  });

  it('fails with the exit code', async () => {
    const id = await submit({ command: ['sh', '-c', 'echo bad >&2; exit 3'] });
    const job = await until(id, 'failed');
    expect(job).toMatchObject({ phase: 'Failed', reason: 'Error', exit_code: 3 });
    expect((await phases(id)).at(-1)).toBe('Failed/Error');
  });

  it('reports OOMKilled', async () => {
    const id = await submit({
      command: ['sh', '-c', 'sleep 1'],
      annotations: { 'sim.roam.dev/oom': 'true' },
    });
    expect(await until(id, 'failed')).toMatchObject({ reason: 'OOMKilled', exit_code: 137 });
  });

  it('enforces max_duration_seconds as DeadlineExceeded', async () => {
    const id = await submit({ command: ['sleep', '100000'], max_duration_seconds: 5 });
    expect(await until(id, 'failed')).toMatchObject({ reason: 'DeadlineExceeded' });
  });

  it('fails an image that never pulls and deletes its Job', async () => {
    const id = await submit({
      command: ['true'],
      annotations: { 'sim.roam.dev/image-pull-error': 'manifest unknown' },
    });
    expect(await until(id, 'failed')).toMatchObject({ reason: 'ImagePullBackOff' });
    await eventually('the Job to be deleted', async () => (await kubeJob(id)) === undefined);
  });

  it('retries per policy with a new Kubernetes Job per attempt, then gives up', async () => {
    const id = await submit({
      command: ['sh', '-c', 'exit 7'],
      retry_policy: {
        max_attempts: 3,
        on_exit_codes: [7],
        backoff: { initial_seconds: 0, factor: 1, max_seconds: 0 },
      },
    });
    const job = await until(id, 'failed');
    expect(job).toMatchObject({ attempt: 3, exit_code: 7, reason: 'Error' });
    const history = await phases(id);
    expect(history.filter((phase) => phase === 'Queued/RetryBackoff')).toHaveLength(2);
    expect(history.filter((phase) => phase === 'Running')).toHaveLength(3);
    for (const attempt of [1, 2, 3]) expect(await kubeJob(id, attempt)).toBeDefined();
    const events = await h.prisma.event.findMany({
      where: { subject: `jobs/${id}` },
      orderBy: { position: 'asc' },
    });
    expect(events.filter((event) => event.type === subjects.job.retried)).toHaveLength(2);
    expect(events.filter((event) => event.type === subjects.job.failed)).toHaveLength(1);
  });

  it('retries a failed attempt and succeeds on the next one', async () => {
    const id = await submit({
      command: ['sh', '-c', 'test "$ROAM_ATTEMPT" = 1 && exit 9; echo attempt $ROAM_ATTEMPT ok'],
      retry_policy: { max_attempts: 2, backoff: { initial_seconds: 0, factor: 1, max_seconds: 0 } },
    });
    const job = await until(id, 'succeeded');
    expect(job).toMatchObject({ attempt: 2, exit_code: 0 });
    expect(await phases(id)).toEqual([
      'Submitted',
      'Admitted/ContainerCreating',
      'Running',
      'Queued/RetryBackoff',
      'Admitted/ContainerCreating',
      'Running',
      'Succeeded',
    ]);
  });

  it('does not retry a failure the policy does not name', async () => {
    const id = await submit({
      command: ['sh', '-c', 'exit 4'],
      retry_policy: { max_attempts: 3, on_exit_codes: [7] },
    });
    expect(await until(id, 'failed')).toMatchObject({ attempt: 1, exit_code: 4 });
    expect((await get(id)).message).toContain('not among the failures the retry policy retries');
  });

  it('cancels a running job: the Kubernetes Job goes, the record stays; a second cancel changes nothing', async () => {
    const id = await submit({ command: ['sleep', '100000'] });
    await until(id, 'running');
    const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', phase: 'Cancelled' });
    await eventually('the Job to be deleted', async () => (await kubeJob(id)) === undefined);
    const again = await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    expect(again.body).toMatchObject({
      status: 'cancelled',
      completed_at: cancelled.body.completed_at,
    });
    expect((await phases(id)).at(-1)).toBe('Cancelled/CancelledByUser');
  });

  it('keeps the record and deletes the Kubernetes objects after the TTL', async () => {
    const id = await submit({ command: ['true'], ttl_seconds_after_finished: 0 });
    await until(id, 'succeeded');
    await eventually('the Job to be deleted', async () => (await kubeJob(id)) === undefined);
    // Recorded after the delete (recording first could leak a Job whose delete then failed).
    await eventually(
      'the cleanup to be recorded',
      async () => (await h.prisma.job.findUniqueOrThrow({ where: { id } })).cleanupAt !== null,
    );
    expect(await get(id)).toMatchObject({ status: 'succeeded' });
  });

  it('marks a job Lost when its Kubernetes Job disappears behind roam’s back', async () => {
    const id = await submit({ command: ['sleep', '100000'] });
    await until(id, 'running');
    await h.kube.delete({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: 'roam-life-a',
    });
    expect(await until(id, 'failed')).toMatchObject({ reason: 'Lost' });
  });

  describe('quota', () => {
    let small: string;

    beforeAll(async () => {
      small = await register(h.url, 'life-b', { max_concurrent_jobs: 1 });
      await eventually(
        'tenant b ready',
        async () =>
          (await h.prisma.tenant.findUnique({ where: { id: 'life-b' } }))?.status === 'ready',
      );
    });

    it('holds a job at the concurrency limit and admits it when the running one ends', async () => {
      const first = await submit({ command: ['sleep', '100000'] }, small);
      await until(first, 'running', small);
      const second = await submit({ command: ['echo', 'next'] }, small);
      const waiting = await eventually('the second job to wait for quota', async () => {
        const job = await get(second, small);
        return job.phase === 'Queued' && job;
      });
      expect(waiting).toMatchObject({ status: 'pending', reason: 'ConcurrencyLimit' });
      expect(waiting.message).toContain('1');
      // The test ends the first job itself, so the second cannot start early on a slow machine.
      const done = (await call(h.url, 'DELETE', `/api/v1/jobs/${first}`, undefined, small)).body;
      expect(done.status).toBe('cancelled');
      await until(second, 'succeeded', small);
      // Admitted only once the first had ended (Kubernetes' started_at has whole seconds only).
      const admitted = await h.prisma.job.findUniqueOrThrow({ where: { id: second } });
      expect(admitted.admittedAt!.getTime()).toBeGreaterThanOrEqual(
        new Date(done.completed_at).getTime(),
      );
    });

    it('cancels a job while it waits', async () => {
      const first = await submit({ command: ['sleep', '100000'] }, small);
      await until(first, 'running', small);
      const second = await submit({ command: ['true'] }, small);
      await eventually(
        'the second job to queue',
        async () => (await get(second, small)).phase === 'Queued',
      );
      const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${second}`, undefined, small);
      expect(cancelled.body.status).toBe('cancelled');
      // In Kueue mode a waiting job already has its (suspended) Job; the reconciler deletes it
      // on the job.cancel command, after the answer. In roam mode there never was one.
      await kubeJobDeleted(h, 'roam-life-b', `roam-${second}-1`);
      await call(h.url, 'DELETE', `/api/v1/jobs/${first}`, undefined, small);
      await until(first, 'cancelled', small);
    });
  });
});
