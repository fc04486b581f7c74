import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@roam/kube';
import { MinioObjectStore, type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { storageEnv } from '../apps/storage/src/storage.config.js';
import { StorageModule } from '../apps/storage/src/storage.module.js';
import { compatForm } from '../apps/storage/test/compat-flow.js';
import { SUMO_SCENARIO, zipOf } from '../apps/storage/test/zip-fixtures.js';
import { call, type Harness, register, startHarness } from './support/harness.js';
import { preemptedStep } from './support/jobs-api.js';

type Check = {
  name: string;
  state: string;
  podSetUpdates?: { name: string; annotations?: Record<string, string> }[];
};
type Workload = KubernetesObject & {
  spec: { priority?: number };
  status?: { admissionChecks?: Check[] };
};
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type KubeJob = KubernetesObject & {
  spec: {
    suspend?: boolean;
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { initContainers?: { name: string; env?: EnvVar[] }[] };
    };
  };
};

const TTL_SECONDS = 3;

/**
 * ROAM_ADMISSION=kueue with object storage: roam is the `roam-inputs` AdmissionCheck, so a
 * job's presigned URLs are minted when Kueue reserves its quota, not when its suspended Job is
 * created; and roam's priorities are Kueue WorkloadPriorityClasses.
 */
describe('kueue mode: URLs minted at admission, priorities as Kueue classes', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let storage: RoamApp<unknown>;
  let store: MinioObjectStore;
  let key: string;
  const bucket = `roam-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('kueue_check', {
      ROAM_ADMISSION: 'kueue',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      INPUTS_URL_TTL_SECONDS: String(TTL_SECONDS),
    });
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, PORT: '0' },
    });
    store = new MinioObjectStore({
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY: 'S3RVER',
      S3_SECRET_KEY: 'S3RVER',
      S3_PATH_STYLE: true,
    });
    key = await register(h.url, 'kc-a', { max_cpu: 4, max_memory_gi: 8, max_concurrent_jobs: 1 });
    await eventually(
      'the tenant to be ready',
      async () => (await h.prisma.tenant.findUnique({ where: { id: 'kc-a' } }))?.status === 'ready',
    );
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
    await s3?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
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
      { timeoutMs: 60_000 },
    );
  const kubeJob = (id: string) =>
    h.kube.get<KubeJob>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: 'roam-kc-a',
    });
  const workloadOf = async (id: string): Promise<Workload | undefined> => {
    const { items } = await h.kube.list<Workload>('kueue.x-k8s.io/v1beta1', 'Workload', {
      namespace: 'roam-kc-a',
    });
    return items.find((w) => w.metadata?.ownerReferences?.some((o) => o.name === `roam-${id}-1`));
  };

  it("lists roam's AdmissionCheck on the tenant's ClusterQueue and keeps it Active", async () => {
    const cq = await h.kube.get<KubernetesObject & { spec: { admissionChecks?: string[] } }>({
      apiVersion: 'kueue.x-k8s.io/v1beta1',
      kind: 'ClusterQueue',
      name: 'roam-kc-a',
    });
    expect(cq?.spec.admissionChecks).toEqual(['roam-inputs']);
    const check = await eventually('the AdmissionCheck to be Active', async () => {
      const ac = await h.kube.get<
        KubernetesObject & {
          spec: { controllerName: string };
          status?: { conditions?: { type: string; status: string }[] };
        }
      >({ apiVersion: 'kueue.x-k8s.io/v1beta1', kind: 'AdmissionCheck', name: 'roam-inputs' });
      return ac?.status?.conditions?.some((c) => c.type === 'Active' && c.status === 'True') && ac;
    });
    expect(check.spec.controllerName).toBe('roam.dev/inputs');
  });

  it('fetches the inputs and uploads the results of a job that waited in Kueue past INPUTS_URL_TTL_SECONDS', async () => {
    // The tenant's one job slot is taken: the next job waits in Kueue.
    const holder = await submit({ command: ['sleep', '100000'] });
    await until(holder, 'running');
    const zip = await zipOf(SUMO_SCENARIO);
    const submitted = await fetch(`${h.url}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: compatForm(zip),
    });
    expect(submitted.status).toBe(200);
    const { job_id: id } = (await submitted.json()) as { job_id: string };
    await eventually('the job to wait in Kueue with its suspended Job', async () => {
      const job = await h.prisma.job.findUniqueOrThrow({ where: { id } });
      return job.phase === 'Queued' && job.placement !== null;
    });
    // No URL is in the suspended Job: the helpers read the pod's annotations.
    const suspended = await kubeJob(id);
    expect(suspended?.spec.suspend).toBe(true);
    const fetcher = suspended?.spec.template.spec.initContainers?.find(
      (c) => c.name === 'roam-inputs',
    );
    expect(fetcher?.env?.find((e) => e.name === 'ROAM_INPUTS_URL')).toEqual({
      name: 'ROAM_INPUTS_URL',
      valueFrom: { fieldRef: { fieldPath: "metadata.annotations['roam.dev/inputs-url']" } },
    });
    expect(JSON.stringify(suspended)).not.toContain('X-Amz-Signature');

    // A URL minted now, as one minted at Job creation was, expires while the job waits.
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
    const stale = await store.presignGet(row.inputsKey!, TTL_SECONDS);
    expect((await fetch(stale)).status).toBe(200);
    await eventually(
      'a URL minted at Job creation to have expired',
      async () => (await fetch(stale)).status === 403,
      { timeoutMs: 30_000 },
    );
    expect((await get(id)).phase).toBe('Queued');

    // Quota frees: Kueue reserves it, roam mints the URLs, Kueue admits and starts the Job.
    await call(h.url, 'DELETE', `/api/v1/jobs/${holder}`, undefined, key);
    await until(id, 'succeeded');
    const check = (await workloadOf(id))?.status?.admissionChecks?.find(
      (c) => c.name === 'roam-inputs',
    );
    expect(check?.state).toBe('Ready');
    const annotations = check?.podSetUpdates?.[0]?.annotations ?? {};
    expect(Object.keys(annotations).sort()).toEqual([
      'roam.dev/inputs-url',
      'roam.dev/results-upload-url',
    ]);
    // The pod got them: its inputs were fetched and unpacked, its results uploaded.
    const pods = await h.kube.list<KubernetesObject>('v1', 'Pod', {
      namespace: 'roam-kc-a',
      labelSelector: `roam.dev/job-id=${id}`,
    });
    const pod = pods.items[0]!;
    expect(pod.metadata?.annotations?.['roam.dev/inputs-url']).toBe(
      annotations['roam.dev/inputs-url'],
    );
    const files = h.sim.files.forPod('roam-kc-a', pod.metadata!.name!);
    expect(files['/roam/inputs/scenario/grid.sumocfg']).toBe(
      SUMO_SCENARIO['scenario/grid.sumocfg'],
    );
    const listing = await eventually('the results to be listed', async () => {
      const res = await call(h.url, 'GET', `/jobs/${id}/results`, undefined, key);
      return res.status === 200 && res.body.files.length > 0 ? res.body : undefined;
    });
    expect(listing.files.length).toBeGreaterThan(0);
  }, 180_000);

  it('mints the URLs for every pod of a JobSet: each pod set gets them, every pod fetches its inputs', async () => {
    // A tenant with room for the gang: its `pods` quota (max_concurrent_jobs) counts every pod.
    const gangKey = await register(h.url, 'kc-m', {
      max_cpu: 4,
      max_memory_gi: 8,
      max_concurrent_jobs: 4,
    });
    await eventually(
      'the tenant to be ready',
      async () => (await h.prisma.tenant.findUnique({ where: { id: 'kc-m' } }))?.status === 'ready',
    );
    const form = new FormData();
    form.set(
      'spec',
      JSON.stringify({
        image: 'busybox',
        command: ['sh', '-c', 'ls "$ROAM_INPUTS_DIR/scenario"'],
        replicated_jobs: [
          { name: 'driver', replicas: 1 },
          { name: 'worker', replicas: 2 },
        ],
      }),
    );
    form.set('inputs', new Blob([await zipOf(SUMO_SCENARIO)]), 'inputs.zip');
    const submitted = await fetch(`${h.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gangKey}` },
      body: form,
    });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as { id: string };
    await eventually(
      'the JobSet to succeed',
      async () => {
        const job = await h.prisma.job.findUniqueOrThrow({ where: { id } });
        if (job.status === 'failed') throw new Error(`job failed: ${job.reason} ${job.message}`);
        return job.status === 'succeeded';
      },
      { timeoutMs: 60_000 },
    );
    const jobSetName = `r${id.replaceAll('-', '')}-1`;
    const { items } = await h.kube.list<Workload>('kueue.x-k8s.io/v1beta1', 'Workload', {
      namespace: 'roam-kc-m',
    });
    const workload = items.find((w) =>
      w.metadata?.ownerReferences?.some((o) => o.kind === 'JobSet' && o.name === jobSetName),
    );
    const check = workload?.status?.admissionChecks?.find((c) => c.name === 'roam-inputs');
    expect(check?.state).toBe('Ready');
    expect(check?.podSetUpdates?.map((u) => u.name)).toEqual(['driver', 'worker']);
    const url = check?.podSetUpdates?.[0]?.annotations?.['roam.dev/inputs-url'];
    expect(url).toContain('X-Amz-Signature');
    expect(check?.podSetUpdates?.[1]?.annotations?.['roam.dev/inputs-url']).toBe(url);
    const pods = await h.kube.list<KubernetesObject>('v1', 'Pod', {
      namespace: 'roam-kc-m',
      labelSelector: `roam.dev/job-id=${id}`,
    });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.metadata?.annotations?.['roam.dev/inputs-url']).toBe(url);
      expect(
        h.sim.files.forPod('roam-kc-m', pod.metadata!.name!)['/roam/inputs/scenario/grid.sumocfg'],
      ).toBe(SUMO_SCENARIO['scenario/grid.sumocfg']);
    }
  }, 120_000);

  it('maps priority onto WorkloadPriorityClasses: a high job preempts a low one in the full queue', async () => {
    const classes = await h.kube.list<KubernetesObject & { value: number }>(
      'kueue.x-k8s.io/v1beta1',
      'WorkloadPriorityClass',
    );
    expect(Object.fromEntries(classes.items.map((c) => [c.metadata?.name, c.value]))).toMatchObject(
      { 'roam-low': -100, 'roam-normal': 0, 'roam-high': 100 },
    );

    const low = await submit({ command: ['sleep', '100000'], priority: -50 });
    await until(low, 'running');
    expect((await kubeJob(low))?.metadata?.labels?.['kueue.x-k8s.io/priority-class']).toBe(
      'roam-low',
    );
    expect((await workloadOf(low))?.spec.priority).toBe(-100);

    const high = await submit({ command: ['echo', 'urgent'], priority: 100 });
    const preempted = await preemptedStep(h.prisma, [low]);
    // A roam preemption: a new attempt, no retry used.
    expect(preempted).toMatchObject({ status: 'pending', phase: 'Queued' });
    expect(await get(low)).toMatchObject({ attempt: 2 });
    expect(preempted.message).toContain('due to prioritization in the ClusterQueue');
    expect((await kubeJob(high))?.metadata?.labels?.['kueue.x-k8s.io/priority-class']).toBe(
      'roam-high',
    );
    await until(high, 'succeeded');
    // The high job is done: Kueue admits the low one's second attempt.
    expect(await until(low, 'running')).toMatchObject({ attempt: 2 });
    await call(h.url, 'DELETE', `/api/v1/jobs/${low}`, undefined, key);
    await until(low, 'cancelled');
  }, 180_000);
});
