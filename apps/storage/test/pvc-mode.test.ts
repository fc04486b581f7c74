import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { storageEnv } from '../src/storage.config.js';
import { StorageModule } from '../src/storage.module.js';
import { logsAfterPodsGone, compatForm, succeeded } from './compat-flow.js';
import { SUMO_SCENARIO, zipOf } from './zip-fixtures.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * SUMO-K8's local-cluster mode: no object storage, a `roam-results` PVC per tenant. The
 * simulator keeps claims on disk as a local-path provisioner does (`<dir>/<ns>/<claim>/`), and
 * roam's processes read the same volumes through RESULTS_PVC_ROOT's `{tenant}` segment.
 */
describe('inputs, results and logs on the tenant PVC (no object storage)', () => {
  let volumes: string;
  let h: Harness;
  let storage: RoamApp<unknown>;

  beforeAll(async () => {
    volumes = await mkdtemp(join(tmpdir(), 'roam-volumes-'));
    const env = { RESULTS_PVC_ROOT: `${volumes}/roam-{tenant}/roam-results` };
    h = await startHarness('storage_pvc', env, { volumesDir: volumes });
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, ...env, PORT: '0' },
    });
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
    await rm(volumes, { recursive: true, force: true });
  });

  it('gives each tenant a results claim, and runs the SUMO-K8 flow on it', async () => {
    const tenant = `pvc-${randomBytes(3).toString('hex')}`;
    const key = await register(h.url, tenant, { max_cpu: 4, max_memory_gi: 8 });
    const namespace = `roam-${tenant}`;
    const claim = await eventually('the tenant results claim', () =>
      h.kube.get<{ kind?: string; spec?: { accessModes?: string[] } }>({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace,
        name: 'roam-results',
      }),
    );
    expect(claim.spec?.accessModes).toEqual(['ReadWriteMany']);

    const zip = await zipOf(SUMO_SCENARIO);
    const submitted = await fetch(`${h.url}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: compatForm(zip),
    });
    expect(submitted.status).toBe(200);
    const { job_id: jobId } = (await submitted.json()) as { job_id: string };
    const volume = join(volumes, namespace, 'roam-results');
    // The archive is kept on the tenant's volume, where the fetcher reads it.
    expect(await readFile(join(volume, 'inputs', jobId, 'inputs.zip'))).toEqual(zip);

    await succeeded(h, jobId);
    const pods = await h.kube.list<{ metadata?: { name?: string } }>('v1', 'Pod', {
      namespace,
      labelSelector: `roam.dev/job-id=${jobId}`,
    });
    const podFiles = h.sim.files.forPod(namespace, pods.items[0]!.metadata!.name!);
    expect(podFiles['/roam/inputs/scenario/grid.sumocfg']).toBe(
      SUMO_SCENARIO['scenario/grid.sumocfg'],
    );

    // The job wrote to /roam/results, which is results/<job>/ on the claim (SUMO-K8's path).
    const expected = `scenario=corridor job=${jobId} attempt=1\n`;
    expect(await readFile(join(volume, 'results', jobId, 'run.txt'), 'utf8')).toBe(expected);
    const listing = await eventually('the results to be listed', async () => {
      const res = await call(h.url, 'GET', `/jobs/${jobId}/results`, undefined, key);
      return res.status === 200 && res.body.files.length > 0 ? res.body : undefined;
    });
    expect(listing).toMatchObject({
      storage_type: 'pvc',
      result_location: `pvc:/results/${jobId}/`,
      files: [{ name: 'run.txt', checksum: sha256(expected), expires_at: null }],
    });
    const file = await fetch(`${h.url}/jobs/${jobId}/results/run.txt`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(await file.text()).toBe(expected);

    // Logs are archived on the same volume and served once the pod is gone.
    await eventually('the log archive row', () =>
      h.prisma.logArchive.findFirst({ where: { jobId, attempt: 1 } }).then((r) => r ?? undefined),
    );
    expect(await readFile(join(volume, 'logs', jobId, 'attempt-1.log'), 'utf8')).toContain(
      'Starting SUMO simulation corridor',
    );
    const logs = await logsAfterPodsGone(h, key, namespace, jobId);
    expect(logs.logs).toContain('Starting SUMO simulation corridor');
  });

  it('keeps each pod of a multi-pod job its own folder on the claim, listed and zipped per replica as in S3 mode', async () => {
    const tenant = `pvc-${randomBytes(3).toString('hex')}`;
    const key = await register(h.url, tenant, { max_cpu: 8, max_memory_gi: 8 });
    const namespace = `roam-${tenant}`;
    await eventually('the tenant results claim', () =>
      h.kube.get({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace,
        name: 'roam-results',
      }),
    );
    const submit = async (spec: Record<string, unknown>) => {
      const response = await call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', resources: { cpu: '100m', memory: '64Mi' }, ...spec },
        key,
      );
      expect(response.status).toBe(201);
      return response.body.id as string;
    };
    const names = async (path: string) => {
      const res = await call(h.url, 'GET', path, undefined, key);
      return res.status === 200 ? (res.body.files as { name: string }[]).map((f) => f.name) : [];
    };
    const volume = join(volumes, namespace, 'roam-results');

    // Every pod writes the same name: each lands in its replica's folder, none overwritten.
    const indexed = await submit({
      command: ['sh', '-c', 'echo "from $JOB_COMPLETION_INDEX" > /roam/results/out.txt'],
      parallelism: 3,
    });
    const jobSet = await submit({
      command: [
        'sh',
        '-c',
        'echo "from $ROAM_REPLICATED_JOB $ROAM_REPLICA_INDEX" > /roam/results/out.txt',
      ],
      replicated_jobs: [{ name: 'worker', replicas: 2 }],
    });
    await succeeded(h, indexed);
    await succeeded(h, jobSet);
    for (const index of [0, 1, 2])
      expect(
        await readFile(join(volume, 'results', indexed, String(index), 'out.txt'), 'utf8'),
      ).toBe(`from ${index}\n`);
    for (const index of [0, 1])
      expect(
        await readFile(join(volume, 'results', jobSet, `worker-${index}`, 'out.txt'), 'utf8'),
      ).toBe(`from worker ${index}\n`);

    const listed = await eventually('the indexed results listed', async () => {
      const files = await names(`/api/v1/jobs/${indexed}/results`);
      return files.length === 3 ? files : undefined;
    });
    expect(listed).toEqual(['0/out.txt', '1/out.txt', '2/out.txt']);
    expect(await names(`/api/v1/jobs/${indexed}/results?replica=1`)).toEqual(['1/out.txt']);
    const file = await fetch(`${h.url}/api/v1/jobs/${indexed}/results/2/out.txt`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(await file.text()).toBe('from 2\n');
    const zip = await fetch(`${h.url}/api/v1/jobs/${indexed}/results.zip?replica=0`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(zip.status).toBe(200);
    expect(Buffer.from(await zip.arrayBuffer()).includes(Buffer.from('0/out.txt'))).toBe(true);

    const workers = await eventually('the JobSet results listed', async () => {
      const files = await names(`/api/v1/jobs/${jobSet}/results`);
      return files.length === 2 ? files : undefined;
    });
    expect(workers).toEqual(['worker-0/out.txt', 'worker-1/out.txt']);
    expect(await names(`/api/v1/jobs/${jobSet}/results?replica=worker-1`)).toEqual([
      'worker-1/out.txt',
    ]);
  });
});
