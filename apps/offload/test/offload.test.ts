// The offload worker end to end: roam's gateway, scheduler and reconciler, the Kubernetes
// and RunPod simulators over HTTP, real Postgres and NATS, and the worker in-process.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { offloadEnv } from '../src/offload.config.js';
import { storageEnv } from '../../storage/src/storage.config.js';
import { StorageModule } from '../../storage/src/storage.module.js';
import { zipOf } from '../../storage/test/zip-fixtures.js';
import { OffloadModule } from '../src/offload.module.js';

const EXAMPLE_JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: my-gpu-job
  annotations:
    runpod.io/managed: "true"
    runpod.io/offload: "true"
    runpod.io/required-gpu-memory: "16"
spec:
  template:
    spec:
      containers:
      - name: my-container
        image: my-gpu-image:latest
        command: ["sh", "-c", "echo hello from runpod; sleep 100000"]
        resources:
          requests:
            nvidia.com/gpu: 1
          limits:
            nvidia.com/gpu: 1
      restartPolicy: Never
`;

type AnyJob = { metadata?: { annotations?: Record<string, string> }; spec?: { suspend?: boolean } };

function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], (error, stdout, stderr) =>
      error
        ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`))
        : resolve(stdout),
    ),
  );
}

describe('offload to RunPod', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let worker: RoamApp<unknown>;
  let storage: RoamApp<unknown>;
  let key: string;
  const workerEnv = (extra: Record<string, string> = {}) => ({
    ...h.env,
    RUNPOD_API_URL: `${h.sim.runpodUrl}/v1`,
    RUNPOD_API_KEY: 'sim-key',
    MAX_PENDING_TIME_SECONDS: '1',
    PENDING_JOB_THRESHOLD: '100',
    MAX_GPU_PRICE: '5',
    OFFLOAD_DENY_GPU_TYPES: '',
    OFFLOAD_CREATE_GRACE_MS: '500',
    LOG_LEVEL: process.env.OFFLOAD_TEST_LOG ?? 'silent',
    ...extra,
  });
  const startWorker = (extra: Record<string, string> = {}) =>
    createRoamApp({
      name: 'offload',
      schema: offloadEnv,
      module: OffloadModule,
      env: workerEnv(extra),
    });
  /** A one-GPU roam job that must run on RunPod; returns its id. */
  const submitRemote = async (name: string, command: string[]) => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        name,
        image: 'trainer:1',
        command,
        resources: { cpu: '1', memory: '1Gi', gpu: 1 },
        offload: 'required',
      },
      key,
    );
    expect(submitted.status).toBe(201);
    return submitted.body.id as string;
  };
  const job = (namespace: string, name: string) =>
    h.kube.get<AnyJob & { apiVersion: string; kind: string }>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace,
      name,
    });

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-offload-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('offload', { S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'roam-offload' });
    worker = await startWorker();
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, PORT: '0', LOG_LEVEL: 'silent' },
    });
    key = await register(h.url, 'gpu-lab', {
      max_cpu: 64,
      max_memory_gi: 256,
      max_concurrent_jobs: 10,
      max_gpu: 16,
      offload_budget_usd: null,
    });
    await eventually(
      'tenant ready',
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: 'gpu-lab' } }))?.status === 'ready',
    );
  });

  afterAll(async () => {
    await storage?.close();
    await worker?.close();
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  it('offloads a roam GPU job that cannot fit after the pending time, on the cheapest fitting GPU, and it succeeds', async () => {
    // Both 4-GPU nodes busy with someone else's work: the job waits for capacity. (An 8-GPU
    // job is refused at submit by the gateway's never-fits check, offload or not.)
    for (const n of [0, 1])
      await h.kube.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `hog-${n}`, namespace: 'default' },
        spec: {
          restartPolicy: 'Never',
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'c',
              image: 'x',
              command: ['sleep', 'infinity'],
              resources: { limits: { 'nvidia.com/gpu': '4' } },
            },
          ],
        },
      });
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        name: 'four-gpus',
        image: 'trainer:1',
        command: ['sh', '-c', 'echo training; sleep 5'],
        resources: { cpu: '1', memory: '1Gi', gpu: 4 },
        offload: 'allowed',
        annotations: { 'runpod.io/required-gpu-memory': '20' },
      },
      key,
    );
    if (submitted.status !== 201) throw new Error(JSON.stringify(submitted.body));
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const done = await eventually(
      'roam job succeeded',
      async () => {
        const row = await h.prisma.job.findUnique({ where: { id } });
        return row?.status === 'succeeded' ? row : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // 4 × RTX 3090 at $0.43 is the cheapest with ≥20 GB (the $0.25 A4000 has 16 GB).
    expect(done.placement).toMatchObject({
      gpu_type: 'NVIDIA GeForce RTX 3090',
      price_per_hour: 1.72,
    });
    expect((done.placement as { runpod_pod_id: string }).runpod_pod_id).toMatch(/^[0-9a-f]+$/);
    const history = await h.prisma.jobHistory.findMany({
      where: { jobId: id },
      orderBy: { seq: 'asc' },
    });
    expect(history.map((r) => `${r.phase}/${r.reason ?? ''}`)).toEqual(
      expect.arrayContaining(['Running/Offloaded', 'Succeeded/']),
    );
    const offload = await h.prisma.offload.findFirstOrThrow({ where: { jobId: id } });
    expect(offload.state).toBe('succeeded');
    expect(offload.costMicros).toBeGreaterThan(0n);
    expect(
      (await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'gpu-lab' } })).offloadSpendMicros,
    ).toBeGreaterThanOrEqual(offload.costMicros);
    expect(h.sim.runpod.livePods().filter((p) => p.id === offload.runpodPodId)).toEqual([]);
    // Its log is archived like any job's and served by roam's log API after the pod is gone.
    const archived = await h.prisma.logArchive.findUniqueOrThrow({
      where: { jobId_attempt: { jobId: id, attempt: 1 } },
    });
    expect(archived.storageKey).toBe(`tenants/gpu-lab/jobs/${id}/logs/attempt-1.log`);
    const logs = await fetch(`${h.url}/api/v1/jobs/${id}/logs`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(logs.status).toBe(200);
    expect(logs.headers.get('roam-log-source')).toBe('archive');
    expect(await logs.text()).toContain('training');
  });

  it("offloads the RunPod controller's example Job applied with kubectl at once, and deleting it terminates the RunPod pod", async () => {
    const file = join(tmpdir(), `example-job-${process.pid}.yaml`);
    await writeFile(file, EXAMPLE_JOB);
    await kubectl(h.sim.kubeconfigPath, ['apply', '-n', 'default', '-f', file]);
    const annotated = await eventually('Job annotated with its RunPod pod', async () => {
      const j = await job('default', 'my-gpu-job');
      return j?.metadata?.annotations?.['runpod.io/pod-id'] ? j : undefined;
    });
    expect(annotated.spec?.suspend).toBe(true);
    expect(annotated.metadata?.annotations).toMatchObject({
      'runpod.io/gpu-type': 'NVIDIA RTX A4000',
      'runpod.io/price-per-hour': '0.25',
    });
    const podId = annotated.metadata!.annotations!['runpod.io/pod-id']!;
    const pods = JSON.parse(
      await kubectl(h.sim.kubeconfigPath, [
        'get',
        'pods',
        '-n',
        'default',
        '-l',
        'runpod.io/managed=true',
        '-o',
        'json',
      ]),
    ) as {
      items: Array<{
        metadata: { name: string };
        spec: { nodeName: string };
        status: { phase: string };
      }>;
    };
    expect(pods.items).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'my-gpu-job-runpod' }),
        spec: expect.objectContaining({ nodeName: 'runpod-virtual-node' }),
        status: expect.objectContaining({ phase: 'Running' }),
      }),
    ]);
    expect(h.sim.runpod.livePods().map((p) => p.id)).toContain(podId);
    await kubectl(h.sim.kubeconfigPath, ['delete', 'job', '-n', 'default', 'my-gpu-job']);
    await eventually(
      'RunPod pod terminated',
      () => !h.sim.runpod.livePods().some((p) => p.id === podId),
    );
    const ended = await eventually('Offload row terminated', async () => {
      const row = await h.prisma.offload.findFirst({ where: { runpodPodId: podId } });
      return row?.state === 'running' ? undefined : row;
    });
    expect(ended?.state).toBe('terminated');
  });

  it('leaves a Job pending with the reason when no GPU fits under the price cap', async () => {
    await h.kube.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'too-dear',
        namespace: 'default',
        annotations: {
          'runpod.io/managed': 'true',
          'runpod.io/offload': 'true',
          'runpod.io/required-gpu-memory': '80',
        },
      },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'c', image: 'x', resources: { limits: { 'nvidia.com/gpu': '4' } } },
            ],
          },
        },
      },
    });
    const reason = await eventually(
      'reason annotated',
      async () =>
        (await job('default', 'too-dear'))?.metadata?.annotations?.['runpod.io/offload-reason'],
    );
    expect(reason).toContain('over the price cap');
    expect(await h.prisma.offload.count({ where: { kubeJobName: 'too-dear' } })).toBe(0);
  });

  it('never leaves a RunPod pod running unknown when the worker dies between create and record', async () => {
    await worker.close();
    const crashing = await startWorker({ OFFLOAD_TEST_CRASH_POINT: 'after-runpod-create' });
    const before = new Set(h.sim.runpod.allPods().map((p) => p.id));
    await h.kube.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'crash-me',
        namespace: 'default',
        annotations: { 'runpod.io/managed': 'true', 'runpod.io/offload': 'true' },
      },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'c',
                image: 'x',
                command: ['sleep', '100000'], // outlives the worker's restart, however slow
                resources: { limits: { 'nvidia.com/gpu': '1' } },
              },
            ],
          },
        },
      },
    });
    const created = await eventually('RunPod pod created by the doomed worker', () =>
      h.sim.runpod.allPods().find((p) => !before.has(p.id)),
    );
    expect(
      (await h.prisma.offload.findFirstOrThrow({ where: { kubeJobName: 'crash-me' } })).state,
    ).toBe('creating');
    await crashing.close();
    worker = await startWorker();
    const adopted = await eventually('pod adopted by its tag', async () => {
      const row = await h.prisma.offload.findFirst({
        where: { kubeJobName: 'crash-me', state: 'running' },
      });
      return row ?? undefined;
    });
    expect(adopted.runpodPodId).toBe(created.id);
    expect(h.sim.runpod.livePods().filter((p) => p.name === created.name)).toHaveLength(1);
    const annotated = await eventually(
      'Job annotated with the adopted pod',
      async () => (await job('default', 'crash-me'))?.metadata?.annotations?.['runpod.io/pod-id'],
    );
    expect(annotated).toBe(created.id);
  });

  it('gives an offloaded job its inputs and keeps its results, as on Kubernetes', async () => {
    const form = new FormData();
    form.set(
      'spec',
      JSON.stringify({
        name: 'remote-train',
        image: 'trainer:1',
        command: ['sh', '-c', 'echo trained > $ROAM_RESULTS_DIR/model.txt; echo done'],
        resources: { cpu: '1', memory: '1Gi', gpu: 1 },
        offload: 'required',
        annotations: {
          'sim.roam.dev/files': JSON.stringify({ '/roam/results/metrics.json': '{"loss":0.1}' }),
        },
      }),
    );
    form.set('inputs', new Blob([await zipOf({ 'data/train.csv': 'x,y\n1,2\n' })]), 'in.zip');
    const submitted = await fetch(`${h.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as { id: string };
    const listing = await eventually(
      'the offloaded job to succeed and its results to be listed',
      async () => {
        const row = await h.prisma.job.findUnique({ where: { id } });
        if (row?.status === 'failed') throw new Error(`job failed: ${row.message}`);
        const res = await call(h.url, 'GET', `/api/v1/jobs/${id}/results`, undefined, key);
        return res.status === 200 && res.body.files.length === 2 ? res.body : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(listing.files.map((f: { name: string }) => f.name)).toEqual([
      'metrics.json',
      'model.txt',
    ]);
    const model = await fetch(`${h.url}/api/v1/jobs/${id}/results/model.txt`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(await model.text()).toBe('trained\n');
    // RunPod ran the job's command inside roam's wrapper, which fetched the inputs first.
    const offload = await h.prisma.offload.findFirstOrThrow({ where: { jobId: id } });
    const pod = h.sim.runpod.allPods().find((p) => p.id === offload.runpodPodId)!;
    expect(pod.dockerEntrypoint.slice(0, 2)).toEqual(['sh', '-c']);
    expect(pod.dockerEntrypoint.slice(4)).toEqual([
      'sh',
      '-c',
      'echo trained > $ROAM_RESULTS_DIR/model.txt; echo done',
    ]);
    expect(pod.logs).toContain('[sim] roam-inputs: unpacked 1 files into /roam/inputs');
    expect(pod.logs.some((line) => line.startsWith('[sim] roam-results: uploaded 2 files'))).toBe(
      true,
    );
  });

  it('cancelling a running offloaded job terminates its RunPod pod and leaves it cancelled', async () => {
    const id = await submitRemote('long-remote', ['sleep', '100000']);
    const running = await eventually('the RunPod pod to run', async () => {
      const row = await h.prisma.offload.findFirst({ where: { jobId: id, state: 'running' } });
      return row?.runpodPodId ?? undefined;
    });
    expect(h.sim.runpod.livePods().map((p) => p.id)).toContain(running);
    const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    await eventually(
      'the RunPod pod to be terminated',
      () => !h.sim.runpod.livePods().some((p) => p.id === running),
    );
    const row = await eventually('the offload to end', async () => {
      const offload = await h.prisma.offload.findFirstOrThrow({ where: { jobId: id } });
      return offload.state !== 'running' && offload.state !== 'creating' ? offload : undefined;
    });
    expect(row.state).toBe('terminated');
    expect((await h.prisma.job.findUniqueOrThrow({ where: { id } })).status).toBe('cancelled');
  });

  it('stops offloading a tenant whose budget is spent', async () => {
    await h.prisma.tenant.update({
      where: { id: 'gpu-lab' },
      data: { offloadBudgetMicros: 1n, offloadSpendMicros: 5n },
    });
    const id = await submitRemote('over-budget', ['sleep', '1']);
    const row = await eventually('budget noted on the job', async () => {
      const j = await h.prisma.job.findUnique({ where: { id } });
      return j?.message?.includes('offload budget') ? j : undefined;
    });
    expect(row.status).toBe('pending');
    expect(await h.prisma.offload.count({ where: { jobId: id } })).toBe(0);
  });
});
