import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { storageEnv } from '../src/storage.config.js';
import { StorageModule } from '../src/storage.module.js';
import { succeeded } from './compat-flow.js';

interface PodView {
  metadata?: { name?: string };
  spec?: {
    initContainers?: { name: string; env?: { name: string; value?: string }[] }[];
  };
  status?: {
    initContainerStatuses?: { name: string; state?: { terminated?: { exitCode: number } } }[];
  };
}

/** At most this many dependency result files per job in this suite: the cap's refusal case. */
const MAX_FILES = 4;

describe('a dependent job receives its dependencies’ results (s3rver, simulator)', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let storage: RoamApp<unknown>;
  let key: string;
  const tenant = `deps-${randomBytes(3).toString('hex')}`;
  const namespace = `roam-${tenant}`;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('dependency_inputs', {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: `roam-${randomBytes(4).toString('hex')}`,
      DEPENDENCY_INPUTS_MAX_FILES: String(MAX_FILES),
      // A dependent admitted before its dependencies' results are stored is offered again soon.
      ADMISSION_CREATE_GRACE_MS: '500',
    });
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, PORT: '0' },
    });
    key = await register(h.url, tenant, { max_cpu: 8, max_memory_gi: 8, max_concurrent_jobs: 8 });
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  const podOf = async (jobId: string): Promise<PodView> => {
    const pods = await h.kube.list<PodView>('v1', 'Pod', {
      namespace,
      labelSelector: `roam.dev/job-id=${jobId}`,
    });
    return pods.items[0]!;
  };

  /** A 3-element sweep whose element i leaves `tripinfo.xml` saying which it is. */
  const sweep = async (): Promise<string> => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      {
        image: 'ghcr.io/eclipse-sumo/sumo:latest',
        command: [
          'sh',
          '-c',
          'echo "<tripinfos run=\\"$ROAM_ARRAY_INDEX\\"/>" > /roam/results/tripinfo.xml',
        ],
        resources: { cpu: '100m', memory: '64Mi' },
        array: { size: 3 },
      },
      key,
    );
    expect(submitted.status).toBe(201);
    return submitted.body.id as string;
  };

  const aggregate = (dependsOn: unknown[]) =>
    call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'python:3.12-slim',
        command: ['sh', '-c', 'echo aggregated > /roam/results/summary.csv'],
        resources: { cpu: '100m', memory: '64Mi' },
        depends_on: dependsOn,
        inputs_from_dependencies: true,
      },
      key,
    );

  it('fetches every element’s result files into inputs/deps/<array>/<index>/ before it starts', async () => {
    const arrayId = await sweep();
    // Submitted at once: it waits for the sweep, then for the storage worker to collect it.
    const submitted = await aggregate([{ job: arrayId, on: 'all_succeeded' }]);
    expect(submitted.status).toBe(201);
    const jobId = submitted.body.id as string;
    expect(submitted.body.spec).toMatchObject({ inputs_from_dependencies: true });

    await succeeded(h, jobId);
    const pod = await podOf(jobId);
    const deps = pod.spec?.initContainers?.find((c) => c.name === 'roam-deps');
    const manifestUrl = deps?.env?.find((e) => e.name === 'ROAM_DEPS_MANIFEST_URL')?.value;
    expect(manifestUrl).toContain(`tenants/${tenant}/jobs/${jobId}/inputs/deps-attempt-1.txt`);
    // One line per element's file: a presigned GET of the stored result, then its place.
    const manifest = await (await fetch(manifestUrl!)).text();
    const lines = manifest.trimEnd().split('\n');
    expect(lines.map((line) => line.split(' ')[1])).toEqual(
      [0, 1, 2].map((i) => `${arrayId}/${i}/tripinfo.xml`),
    );
    expect(lines.every((line) => line.includes('X-Amz-Signature='))).toBe(true);
    expect(
      pod.status?.initContainerStatuses?.find((c) => c.name === 'roam-deps')?.state?.terminated
        ?.exitCode,
    ).toBe(0);

    const files = h.sim.files.forPod(namespace, pod.metadata!.name!);
    for (const i of [0, 1, 2])
      expect(files[`/roam/inputs/deps/${arrayId}/${i}/tripinfo.xml`]).toBe(
        `<tripinfos run="${i}"/>\n`,
      );
  });

  it('gives a pipeline step the results of the step it depends on', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/pipelines',
      {
        name: 'sumo-sweep',
        steps: [
          {
            name: 'simulate',
            array: { size: 2 },
            job: {
              image: 'ghcr.io/eclipse-sumo/sumo:latest',
              command: ['sh', '-c', 'echo "run $ROAM_ARRAY_INDEX" > /roam/results/tripinfo.xml'],
              resources: { cpu: '100m', memory: '64Mi' },
            },
          },
          {
            name: 'aggregate',
            depends_on: [{ step: 'simulate', on: 'finished' }],
            job: {
              image: 'python:3.12-slim',
              command: ['sh', '-c', 'echo aggregated > /roam/results/summary.csv'],
              resources: { cpu: '100m', memory: '64Mi' },
              inputs_from_dependencies: true,
            },
          },
        ],
      },
      key,
    );
    expect(submitted.status).toBe(201);
    const [simulate, aggregateStep] = submitted.body.steps as { id: string }[];
    await succeeded(h, aggregateStep!.id);
    const pod = await podOf(aggregateStep!.id);
    const files = h.sim.files.forPod(namespace, pod.metadata!.name!);
    expect(files[`/roam/inputs/deps/${simulate!.id}/0/tripinfo.xml`]).toBe('run 0\n');
    expect(files[`/roam/inputs/deps/${simulate!.id}/1/tripinfo.xml`]).toBe('run 1\n');
  });

  it('fails the attempt, saying why, when the dependencies hold more files than the cap', async () => {
    const arrayId = await sweep();
    const single = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['sh', '-c', 'echo a > /roam/results/a.txt; echo b > /roam/results/b.txt'],
        resources: { cpu: '100m', memory: '64Mi' },
      },
      key,
    );
    const submitted = await aggregate([
      { job: arrayId, on: 'all_succeeded' },
      { job: single.body.id as string, on: 'succeeded' },
    ]);
    expect(submitted.status).toBe(201);
    const jobId = submitted.body.id as string;

    await eventually(
      'the job to fail',
      async () => {
        const job = await h.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
        return job.status === 'failed' || undefined;
      },
      { timeoutMs: 30_000 },
    );
    const pod = await podOf(jobId);
    const deps = pod.spec?.initContainers?.find((c) => c.name === 'roam-deps');
    expect(deps?.env?.find((e) => e.name === 'ROAM_DEPS_ERROR')?.value).toBe(
      `the dependencies have 5 result files, more than DEPENDENCY_INPUTS_MAX_FILES (${MAX_FILES})`,
    );
    const log = await h.kube.logs(namespace, pod.metadata!.name!, { container: 'roam-deps' });
    expect(log).toContain('more than DEPENDENCY_INPUTS_MAX_FILES');
    expect(
      pod.status?.initContainerStatuses?.find((c) => c.name === 'roam-deps')?.state?.terminated
        ?.exitCode,
    ).toBe(1);
  });

  it('refuses a dependency that is not the tenant’s, and writes nothing', async () => {
    const otherKey = await register(h.url, `other-${randomBytes(3).toString('hex')}`, {
      max_cpu: 1,
      max_memory_gi: 1,
    });
    const theirs = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', command: ['true'], resources: { cpu: '100m', memory: '64Mi' } },
      otherKey,
    );
    const before = await h.prisma.job.count({ where: { tenantId: tenant } });
    const refused = await aggregate([{ job: theirs.body.id as string, on: 'succeeded' }]);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await h.prisma.job.count({ where: { tenantId: tenant } })).toBe(before);
  });

  it('refuses inputs_from_dependencies that is not a boolean', async () => {
    const refused = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        command: ['true'],
        resources: { cpu: '100m', memory: '64Mi' },
        inputs_from_dependencies: 'yes',
      },
      key,
    );
    expect(refused.status).toBe(400);
  });

  it('refuses inputs_from_dependencies on a job that may run on RunPod, with a 422 naming why', async () => {
    const before = await h.prisma.job.count({ where: { tenantId: tenant } });
    const wanting = (offload: string) => ({
      image: 'busybox',
      command: ['true'],
      resources: { cpu: '100m', memory: '64Mi' },
      inputs_from_dependencies: true,
      offload,
    });
    for (const offload of ['allowed', 'required']) {
      const job = await call(h.url, 'POST', '/api/v1/jobs', wanting(offload), key);
      expect(job.status).toBe(422);
      expect(job.body).toMatchObject({
        type: 'https://roam.dev/problems/dependency-inputs-unavailable',
        errors: [{ path: 'inputs_from_dependencies' }],
      });
      expect(job.body.detail).toContain(
        `a job that may run on RunPod (offload: ${offload}) would run there without its dependencies' results`,
      );
      const array = await call(
        h.url,
        'POST',
        '/api/v1/arrays',
        { ...wanting(offload), array: { size: 2 } },
        key,
      );
      expect(array.status).toBe(422);
      const step = await call(
        h.url,
        'POST',
        '/api/v1/pipelines',
        { name: 'offloaded-deps', steps: [{ name: 'only', job: wanting(offload) }] },
        key,
      );
      expect([step.status, step.body.errors?.[0]?.path]).toEqual([
        422,
        'steps.0.job.inputs_from_dependencies',
      ]);
    }
    expect(await h.prisma.job.count({ where: { tenantId: tenant } })).toBe(before);
    // The flag with object storage and no offload is taken (the flows above).
    expect((await call(h.url, 'POST', '/api/v1/jobs', wanting('never'), key)).status).toBe(201);
  });
});
