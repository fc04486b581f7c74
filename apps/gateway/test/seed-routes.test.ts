import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uuidv7 } from '@roam/domain';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import { activitySchema, adminJobsSchema, clusterSchema } from '../src/admin/admin.schemas.js';
import { dashboardSchema, seedJobSchema, seedLogsSchema } from '../src/seed/seed.schemas.js';
import { ADMIN_TOKEN, call, type Harness, startHarness } from '../../../test/support/harness.js';
import {
  placeJob,
  podPhase,
  readyTenant,
  reader,
  sseMessages,
  type Pod,
} from '../../../test/support/job-fixtures.js';

type Quota = KubernetesObject & { status?: { used?: Record<string, string> } };

describe('SUMO-K8 seed routes', () => {
  let h: Harness;
  let key: string;
  let otherKey: string;
  let running: { id: string; pod: Pod };
  let succeeded: string;
  let pending: string;
  let longLog: string;

  beforeAll(async () => {
    h = await startHarness('seed-routes');
    key = await readyTenant(h, 'seed-a');
    otherKey = await readyTenant(h, 'seed-b');
    running = await placeJob(h, 'seed-a', 'echo working; sleep 100000');
    await eventually('the running pod', async () => (await podPhase(h, running.pod)) === 'Running');
    const many = Array.from({ length: 600 }, (_, i) => `line-${i + 1}`).join('\n');
    const done = await placeJob(h, 'seed-a', 'true', {
      annotations: { 'sim.roam.dev/logs': many },
    });
    await eventually(
      'the long pod to end',
      async () => (await podPhase(h, done.pod)) === 'Succeeded',
    );
    await h.prisma.job.update({
      where: { id: done.id },
      data: { status: 'succeeded', phase: 'Succeeded', finishedAt: new Date(), exitCode: 0 },
    });
    succeeded = done.id;
    longLog = many;
    pending = uuidv7();
    await h.prisma.job.create({
      data: {
        id: pending,
        tenantId: 'seed-a',
        name: 'queued',
        spec: { image: 'busybox', command: ['true'] },
        cpuMillis: 100,
        memoryBytes: BigInt(2 ** 27),
        // Waiting out a retry backoff: pending, and out of the scheduler's reach for the test.
        retryAt: new Date(Date.now() + 3_600_000),
      },
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** `null` calls without a key. */
  const get = (path: string, as: string | null = key) =>
    call(h.url, 'GET', path, undefined, as ?? undefined);

  describe('GET /jobs/{job_id}', () => {
    it('answers job_id, status in capitals and submitted_at, plus roam detail', async () => {
      const response = await get(`/jobs/${running.id}`);
      expect(response.status).toBe(200);
      expect(seedJobSchema.safeParse(response.body).error).toBeUndefined();
      expect(response.body).toMatchObject({
        job_id: running.id,
        status: 'RUNNING',
        k8s_namespace: 'roam-seed-a',
        k8s_job_name: `roam-${running.id}-1`,
        pod_name: running.pod.metadata!.name,
        attempt: 1,
      });
      expect(Date.parse(response.body.submitted_at)).not.toBeNaN();
      expect((await get(`/jobs/${succeeded}`)).body).toMatchObject({
        status: 'SUCCEEDED',
        exit_code: 0,
      });
      expect((await get(`/jobs/${pending}`)).body).toMatchObject({
        status: 'PENDING',
        pod_name: null,
      });
    });

    it("is a 404 for another tenant's job, 401 without a key, 403 for an admin", async () => {
      expect((await get(`/jobs/${running.id}`, otherKey)).status).toBe(404);
      expect((await get(`/jobs/${running.id}`, null)).status).toBe(401);
      expect((await get(`/jobs/${running.id}`, ADMIN_TOKEN)).status).toBe(403);
    });
  });

  describe('GET /jobs/{job_id}/logs', () => {
    it('answers job_id, pod_name and the last 500 lines', async () => {
      const response = await get(`/jobs/${succeeded}/logs`);
      expect(response.status).toBe(200);
      expect(seedLogsSchema.safeParse(response.body).error).toBeUndefined();
      expect(response.body.job_id).toBe(succeeded);
      expect(response.body.pod_name).toMatch(new RegExp(`^roam-${succeeded}-1-`));
      const lines = (response.body.logs as string).trimEnd().split('\n');
      expect(lines).toHaveLength(500);
      expect(lines).toEqual(longLog.split('\n').slice(100));
    });

    it('answers empty logs and a null pod for a job that has not started', async () => {
      const response = await get(`/jobs/${pending}/logs`);
      expect(response.body).toEqual({
        job_id: pending,
        pod_name: null,
        logs: '',
        attempt: 1,
        source: 'none',
        reason: 'not-started',
      });
    });
  });

  it('GET /jobs/{job_id}/logs/stream is SSE ending with an end event in seed capitals', async () => {
    const response = await fetch(`${h.url}/jobs/${succeeded}/logs/stream`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const messages = sseMessages(await reader(response).readToEnd());
    expect(messages.filter((m) => m.event === 'message').map((m) => m.data)).toEqual(
      longLog.split('\n'),
    );
    expect(messages.at(-1)!.event).toBe('end');
    expect(JSON.parse(messages.at(-1)!.data)).toEqual({
      job_id: succeeded,
      attempt: 1,
      status: 'SUCCEEDED',
    });
  });

  it('GET /tenants/me/dashboard: limits, quota usage, running pods, recent jobs and stats', async () => {
    const quota = await eventually('the quota to count the running pod', async () => {
      const current = await h.kube.get<Quota>({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        name: 'roam-quota',
        namespace: 'roam-seed-a',
      });
      return current?.status?.used?.pods === '1' && current;
    });
    const response = await get('/tenants/me/dashboard');
    expect(response.status).toBe(200);
    expect(dashboardSchema.safeParse(response.body).error).toBeUndefined();
    expect(response.body).toMatchObject({
      tenant_id: 'seed-a',
      namespace: 'roam-seed-a',
      plan_limits: { max_cpu: 10, max_memory_gi: 20, max_concurrent_jobs: 2, max_gpu: 0 },
      running_pods: 1,
      stats: { pending: 1, running: 1, succeeded: 1, failed: 0, cancelled: 0 },
    });
    expect(response.body.current_usage).toEqual(quota.status!.used);
    expect(response.body.current_usage['requests.cpu']).toBe('100m');
    expect(response.body.recent_jobs.map((j: { job_id: string }) => j.job_id)).toEqual([
      pending,
      succeeded,
      running.id,
    ]);
    const other = await get('/tenants/me/dashboard', otherKey);
    expect(other.body).toMatchObject({ tenant_id: 'seed-b', running_pods: 0, recent_jobs: [] });
    expect((await get('/tenants/me/dashboard', ADMIN_TOKEN)).status).toBe(403);
  });

  describe('admin routes', () => {
    it.each(['/admin/cluster', '/admin/jobs', '/admin/activity'])(
      '%s: 401 without a key, 403 with a tenant key',
      async (path) => {
        const anonymous = await get(path, null);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
        expect((await get(path, key)).status).toBe(403);
      },
    );

    it('GET /admin/cluster lists every node with conditions, capacity and running pods', async () => {
      const response = await get('/admin/cluster', ADMIN_TOKEN);
      expect(response.status).toBe(200);
      expect(clusterSchema.safeParse(response.body).error).toBeUndefined();
      const nodes = await h.kube.list('v1', 'Node');
      expect(response.body.total_nodes).toBe(nodes.items.length);
      expect(response.body.nodes.map((n: { name: string }) => n.name).sort()).toEqual(
        nodes.items.map((n) => n.metadata!.name).sort(),
      );
      const current = await h.kube.get<Pod & { spec: { nodeName: string } }>({
        apiVersion: 'v1',
        kind: 'Pod',
        name: running.pod.metadata!.name!,
        namespace: 'roam-seed-a',
      });
      const host = response.body.nodes.find(
        (n: { name: string }) => n.name === current!.spec.nodeName,
      );
      expect(host.pods_running).toBeGreaterThanOrEqual(1);
      expect(host.status).toContain('Ready');
      expect(Object.keys(host.capacity)).toEqual(expect.arrayContaining(['cpu', 'memory']));
      const total = response.body.nodes.reduce(
        (n: number, node: { pods_running: number }) => n + node.pods_running,
        0,
      );
      const runningPods = (await h.kube.list<Pod>('v1', 'Pod')).items.filter(
        (p) => p.status?.phase === 'Running',
      );
      expect(total).toBe(runningPods.length);
    });

    it('GET /admin/jobs lists every tenant with k8s_status, filtered by status', async () => {
      const all = await get('/admin/jobs', ADMIN_TOKEN);
      expect(all.status).toBe(200);
      expect(adminJobsSchema.safeParse(all.body).error).toBeUndefined();
      expect(all.body.total).toBe(3);
      const runningOnly = await get('/admin/jobs?status=RUNNING', ADMIN_TOKEN);
      expect(runningOnly.body).toEqual({
        jobs: [
          expect.objectContaining({
            job_id: running.id,
            tenant_id: 'seed-a',
            namespace: 'roam-seed-a',
            status: 'RUNNING',
            k8s_job_name: `roam-${running.id}-1`,
            k8s_status: { active: 1, succeeded: 0, failed: 0 },
          }),
        ],
        total: 1,
      });
      const done = await get('/admin/jobs?status=succeeded', ADMIN_TOKEN);
      expect(
        done.body.jobs.map((j: { job_id: string; k8s_status: unknown }) => [
          j.job_id,
          j.k8s_status,
        ]),
      ).toEqual([[succeeded, { active: 0, succeeded: 1, failed: 0 }]]);
      const queued = await get('/admin/jobs?status=PENDING', ADMIN_TOKEN);
      expect(queued.body.jobs[0]).toMatchObject({ job_id: pending, k8s_status: null });
      expect((await get('/admin/jobs?status=LOST', ADMIN_TOKEN)).status).toBe(400);
      expect((await get('/admin/jobs?tenant_id=seed-b', ADMIN_TOKEN)).body).toEqual({
        jobs: [],
        total: 0,
      });
    });

    it('GET /admin/activity counts nodes, pods by phase, Kubernetes Jobs and roam jobs', async () => {
      const response = await get('/admin/activity', ADMIN_TOKEN);
      expect(response.status).toBe(200);
      expect(activitySchema.safeParse(response.body).error).toBeUndefined();
      expect(Math.abs(Date.parse(response.body.timestamp) - Date.now())).toBeLessThan(3_600_000);
      expect(response.body.db_jobs).toEqual({
        PENDING: 1,
        RUNNING: 1,
        SUCCEEDED: 1,
        FAILED: 0,
        CANCELLED: 0,
      });
      expect(response.body.nodes).toBe((await h.kube.list('v1', 'Node')).items.length);
      const jobs = await h.kube.list('batch/v1', 'Job');
      expect(response.body.k8s_jobs).toEqual({
        total: jobs.items.length,
        active: 1,
        succeeded: 1,
        failed: 0,
      });
      const pods = (await h.kube.list<Pod>('v1', 'Pod')).items;
      expect(response.body.pods.Running).toBe(
        pods.filter((p) => p.status?.phase === 'Running').length,
      );
      expect(response.body.pods.Succeeded).toBe(
        pods.filter((p) => p.status?.phase === 'Succeeded').length,
      );
    });
  });
});
