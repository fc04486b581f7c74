import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  listAll,
  MinioObjectStore,
  resultsUploadKey,
  type RunningS3rver,
  startS3rver,
} from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';
import yauzl from 'yauzl';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { RetentionLoop } from '../src/retention/retention.loop.js';
import { storageEnv } from '../src/storage.config.js';
import { StorageModule } from '../src/storage.module.js';
import { StorageService } from '../src/storage.service.js';
import { logsAfterPodsGone, compatForm, succeeded } from './compat-flow.js';
import { SUMO_SCENARIO, zipOf, zipWithEntryName } from './zip-fixtures.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function unzip(data: Buffer): Promise<Record<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(data, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const out: Record<string, Buffer> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks);
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

describe('inputs, results and logs in object storage (s3rver)', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let storage: RoamApp<unknown>;
  let store: MinioObjectStore;
  const bucket = `roam-${randomBytes(4).toString('hex')}`;
  /** The first test's job, once it has run. */
  let finished: { tenant: string; jobId: string } | undefined;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    const s3env = { S3_ENDPOINT: s3.endpoint, S3_BUCKET: bucket };
    h = await startHarness('storage_flow', {
      ...s3env,
      MAX_FILE_SIZE_MB: '1',
      INPUTS_MAX_ENTRIES: '50',
      INPUTS_MAX_UNCOMPRESSED_MB: '2',
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
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  /** Waits for the storage worker to finish a job: it removes the uploads last. */
  const uploadsGone = (tenant: string, jobId: string) =>
    eventually('the results upload to be removed', async () => {
      const uploads = await objectsUnder(`tenants/${tenant}/jobs/${jobId}/results/.roam/`);
      if (uploads.length > 0) throw new Error(`still there: ${uploads.join(', ')}`);
      return true;
    });

  async function objectsUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of listAll(store, prefix)) keys.push(object.key);
    return keys;
  }

  const post = (path: string, body: FormData | string | Buffer, key: string, type?: string) =>
    fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...(type ? { 'content-type': type } : {}) },
      body,
    });

  it('runs the SUMO-K8 flow: zip upload → inputs in the pod → results → downloads → archived logs', async () => {
    const tenant = `sumo-${randomBytes(3).toString('hex')}`;
    const key = await register(h.url, tenant, { max_cpu: 4, max_memory_gi: 8 });
    const seed = randomBytes(256);
    const zip = await zipOf({ ...SUMO_SCENARIO, 'scenario/seed.bin': seed });

    const submitted = await post('/jobs', compatForm(zip), key);
    expect(submitted.status).toBe(200);
    const { job_id: jobId } = (await submitted.json()) as { job_id: string };

    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(row.inputsKey).toBe(`tenants/${tenant}/jobs/${jobId}/inputs/inputs.zip`);
    expect(Number(row.inputsBytes)).toBe(zip.length);
    expect((await store.stat(row.inputsKey!))?.size).toBe(zip.length);

    await succeeded(h, jobId);

    // The init container unpacked the archive into the pod's working directory.
    const namespace = `roam-${tenant}`;
    const pods = await h.kube.list<{ metadata?: { name?: string } }>('v1', 'Pod', {
      namespace,
      labelSelector: `roam.dev/job-id=${jobId}`,
    });
    const podName = pods.items[0]!.metadata!.name!;
    const podFiles = h.sim.files.forPod(namespace, podName);
    expect(podFiles['/roam/inputs/scenario/grid.sumocfg']).toBe(
      SUMO_SCENARIO['scenario/grid.sumocfg'],
    );
    expect(podFiles['/roam/inputs/scenario/grid.net.xml']).toBe(
      SUMO_SCENARIO['scenario/grid.net.xml'],
    );
    // Byte for byte, binary files too.
    expect(h.sim.files.podFiles(namespace, podName).get('/roam/inputs/scenario/seed.bin')).toEqual(
      seed,
    );
    const pod = await h.kube.get<{
      kind?: string;
      spec?: { initContainers?: { name: string; restartPolicy?: string }[] };
      status?: {
        initContainerStatuses?: {
          name: string;
          state?: { terminated?: { exitCode: number } };
        }[];
      };
    }>({ apiVersion: 'v1', kind: 'Pod', namespace, name: podName });
    // The inputs fetcher, then the results uploader as a native sidecar that ended cleanly.
    expect((pod?.spec?.initContainers ?? []).map((c) => [c.name, c.restartPolicy ?? null])).toEqual(
      [
        ['roam-inputs', null],
        ['roam-results', 'Always'],
      ],
    );
    expect(
      pod?.status?.initContainerStatuses?.find((c) => c.name === 'roam-results')?.state?.terminated
        ?.exitCode,
    ).toBe(0);
    finished = { tenant, jobId };

    const expected = `scenario=corridor job=${jobId} attempt=1\n`;
    const listing = await eventually('the results to be listed', async () => {
      const res = await call(h.url, 'GET', `/jobs/${jobId}/results`, undefined, key);
      return res.status === 200 && res.body.files.length > 0 ? res.body : undefined;
    });
    expect(listing.storage_type).toBe('s3');
    expect(listing.files).toEqual([
      expect.objectContaining({
        name: 'run.txt',
        size: Buffer.byteLength(expected),
        checksum: sha256(expected),
        content_type: 'text/plain; charset=utf-8',
      }),
    ]);
    // Once unpacked, the sidecar's upload is removed: only the results stay.
    await uploadsGone(tenant, jobId);
    expect(await objectsUnder(`tenants/${tenant}/jobs/${jobId}/results/`)).toEqual([
      `tenants/${tenant}/jobs/${jobId}/results/run.txt`,
    ]);

    // The presigned URL works without the API key.
    const presigned = await fetch(listing.files[0].url);
    expect(sha256(Buffer.from(await presigned.arrayBuffer()))).toBe(listing.files[0].checksum);

    const file = await fetch(`${h.url}/jobs/${jobId}/results/run.txt`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(file.status).toBe(200);
    expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(expected));

    const redirected = await fetch(`${h.url}/api/v1/jobs/${jobId}/results/run.txt?redirect=true`, {
      headers: { authorization: `Bearer ${key}` },
      redirect: 'manual',
    });
    expect(redirected.status).toBe(302);
    const followed = await fetch(redirected.headers.get('location')!);
    expect(await followed.text()).toBe(expected);

    const archive = await fetch(`${h.url}/jobs/${jobId}/results.zip`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(archive.status).toBe(200);
    expect(archive.headers.get('content-type')).toBe('application/zip');
    const entries = await unzip(Buffer.from(await archive.arrayBuffer()));
    expect(Object.keys(entries)).toEqual(['run.txt']);
    expect(sha256(entries['run.txt']!)).toBe(listing.files[0].checksum);

    // Logs: archived when the job ended, still served once Kubernetes deleted the pod.
    const archived = await eventually('the log archive row', () =>
      h.prisma.logArchive.findFirst({ where: { jobId, attempt: 1 } }).then((r) => r ?? undefined),
    );
    expect(archived.storageKey).toBe(`tenants/${tenant}/jobs/${jobId}/logs/attempt-1.log`);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(archived.storageKey)) chunks.push(chunk as Buffer);
    const archivedText = Buffer.concat(chunks).toString('utf8');
    expect(archivedText).toMatch(/^\d{4}-\d{2}-\d{2}T\S+ Starting SUMO simulation corridor/m);

    const logs = await logsAfterPodsGone(h, key, namespace, jobId);
    expect(logs.logs).toContain('Starting SUMO simulation corridor');
  });

  it('reports an upload that is not a tar.gz once, and keeps it, instead of retrying forever', async () => {
    const { tenant, jobId } = finished!;
    const upload = resultsUploadKey(tenant, jobId, 1);
    await store.put(upload, Buffer.from('not gzip'), 8, 'application/gzip');
    // As if the job had not been stored yet (a redelivery after a crash, say).
    await h.prisma.storedJob.delete({ where: { jobId } });
    await expect(storage.app.get(StorageService).storeJob(jobId)).resolves.toBeUndefined();
    expect((await h.prisma.storedJob.findUniqueOrThrow({ where: { jobId } })).resultsError).toMatch(
      /could not be unpacked/,
    );
    expect((await store.stat(upload))?.size).toBe(8);
    expect(
      (await h.prisma.resultFile.findMany({ where: { jobId } })).map((file) => file.path),
    ).toEqual(['run.txt']);
    await store.remove(upload);
  });

  it("removes a failed attempt's upload when the last attempt left no results (and so uploaded nothing)", async () => {
    const tenant = `retry-${randomBytes(3).toString('hex')}`;
    const key = await register(h.url, tenant, { max_cpu: 4, max_memory_gi: 8 });
    const res = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      {
        image: 'busybox',
        resources: { cpu: '250m', memory: '64Mi' },
        command: [
          'sh',
          '-c',
          'test "$ROAM_ATTEMPT" = 1 && echo partial > /roam/results/partial.txt; test "$ROAM_ATTEMPT" = 1 && exit 9; echo ok',
        ],
        retry_policy: {
          max_attempts: 2,
          // Room to see the first attempt's upload before the second attempt runs.
          backoff: { initial_seconds: 3, factor: 1, max_seconds: 3 },
        },
      },
      key,
    );
    expect(res.status).toBe(201);
    const jobId = res.body.id as string;
    // The first attempt's upload stays until the job is stored after its last attempt.
    await eventually('the first attempt to upload its results', async () =>
      Boolean(await store.stat(resultsUploadKey(tenant, jobId, 1))),
    );
    const stored = await eventually(
      'the job to be stored',
      async () => (await h.prisma.storedJob.findUnique({ where: { jobId } })) ?? undefined,
      { timeoutMs: 30_000 },
    );
    expect(stored.resultsError).toBeNull();
    expect(await h.prisma.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({
      status: 'succeeded',
      attempt: 2,
    });
    // Results are the last attempt's: none, and no upload is left behind.
    expect(await h.prisma.resultFile.count({ where: { jobId } })).toBe(0);
    expect(await objectsUnder(`tenants/${tenant}/jobs/${jobId}/results/`)).toEqual([]);
  });

  it('takes multipart POST /api/v1/jobs, keeps only files matching the result patterns, deletes results, and applies retention', async () => {
    const tenant = `api-${randomBytes(3).toString('hex')}`;
    const key = await register(h.url, tenant, { max_cpu: 4, max_memory_gi: 8 });
    const form = new FormData();
    form.set(
      'spec',
      JSON.stringify({
        template: 'sumo',
        resources: { cpu: '1', memory: '1Gi' },
        annotations: {
          'sim.roam.dev/files': JSON.stringify({
            '/roam/results/tripinfo.xml': '<tripinfos/>',
            '/roam/results/state.bin': 'not a result',
          }),
        },
      }),
    );
    form.set('inputs', new Blob([await zipOf(SUMO_SCENARIO)]), 'inputs.zip');
    const submitted = await post('/api/v1/jobs', form, key);
    expect(submitted.status).toBe(201);
    const { id: jobId } = (await submitted.json()) as { id: string };

    const listing = await eventually(
      'the results',
      async () => {
        const res = await call(h.url, 'GET', `/api/v1/jobs/${jobId}/results`, undefined, key);
        return res.status === 200 && res.body.files.length >= 2 ? res.body : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(listing.files.map((f: { name: string }) => f.name)).toEqual(['run.txt', 'tripinfo.xml']);
    await uploadsGone(tenant, jobId);
    expect(listing.files[1]).toMatchObject({
      content_type: 'application/xml',
      checksum: sha256('<tripinfos/>'),
    });

    const other = await register(h.url, `${tenant}-x`);
    expect(
      (await call(h.url, 'GET', `/api/v1/jobs/${jobId}/results`, undefined, other)).status,
    ).toBe(404);

    // Retention: a file older than the tenant's results_retention_days goes.
    await h.prisma.tenant.update({ where: { id: tenant }, data: { resultsRetentionDays: 1 } });
    await h.prisma.resultFile.updateMany({
      where: { jobId, path: 'tripinfo.xml' },
      data: { createdAt: new Date(Date.now() - 2 * 86_400_000) },
    });
    expect(await storage.app.get(RetentionLoop).sweep(new Date())).toBe(1);
    const after = await call(h.url, 'GET', `/api/v1/jobs/${jobId}/results`, undefined, key);
    expect(after.body.files.map((f: { name: string }) => f.name)).toEqual(['run.txt']);
    expect(await objectsUnder(`tenants/${tenant}/jobs/${jobId}/results/`)).toEqual([
      `tenants/${tenant}/jobs/${jobId}/results/run.txt`,
    ]);

    const deleted = await call(h.url, 'DELETE', `/api/v1/jobs/${jobId}/results`, undefined, key);
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted).toBe(1);
    expect(await objectsUnder(`tenants/${tenant}/jobs/${jobId}/results/`)).toEqual([]);
    const empty = await call(h.url, 'GET', `/api/v1/jobs/${jobId}/results`, undefined, key);
    expect(empty.body.files).toEqual([]);
  });

  describe('refuses bad uploads and leaves nothing behind', () => {
    let tenant: string;
    let key: string;

    beforeAll(async () => {
      tenant = `bad-${randomBytes(3).toString('hex')}`;
      key = await register(h.url, tenant, { max_cpu: 4, max_memory_gi: 8 });
    });

    async function expectNothingLeft(): Promise<void> {
      expect(await objectsUnder(`tenants/${tenant}/`)).toEqual([]);
      expect(await h.prisma.job.count({ where: { tenantId: tenant } })).toBe(0);
    }

    const cases: [string, () => Promise<Buffer | string>, number, string | undefined][] = [
      ['an oversized upload', () => Promise.resolve(randomBytes(1024 * 1024 + 10)), 413, undefined],
      [
        'a file that is not a zip',
        () => Promise.resolve('just some text, not an archive'),
        422,
        'not-an-archive',
      ],
      [
        'a zip bomb by entry count',
        () =>
          zipOf(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}.sumocfg`, 'x']))),
        413,
        'too-many-entries',
      ],
      [
        'a zip bomb by expanded size',
        () =>
          zipOf({ 'a.sumocfg': '<configuration/>', 'zeros.bin': Buffer.alloc(3 * 1024 * 1024) }),
        413,
        'too-large-uncompressed',
      ],
      [
        'a zip slip with ..',
        () => zipWithEntryName('../x', { 'a.sumocfg': 'c' }),
        422,
        'unsafe-path',
      ],
      [
        'a zip slip with an absolute path',
        () => zipWithEntryName('/abs', { 'a.sumocfg': 'c' }),
        422,
        'unsafe-path',
      ],
      [
        'a zip without a .sumocfg',
        () => zipOf({ 'net.net.xml': '<net/>' }),
        422,
        'missing-required',
      ],
    ];

    it.each(cases)('refuses %s', async (_name, make, status, code) => {
      const res = await post('/jobs', compatForm(await make()), key);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      if (code) expect(((await res.json()) as { code: string }).code).toBe(code);
      await expectNothingLeft();
    });

    it('refuses a truncated upload stream', async () => {
      const boundary = 'roamboundary42';
      const zip = await zipOf(SUMO_SCENARIO);
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="scenario_id"\r\n\r\nx\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="sumo_files"; filename="s.zip"\r\n` +
          'Content-Type: application/zip\r\n\r\n',
      );
      // The archive stops half way and the closing boundary never comes.
      const body = Buffer.concat([head, zip.subarray(0, zip.length >> 1)]);
      const res = await post(
        '/jobs',
        body.toString('latin1'),
        key,
        `multipart/form-data; boundary=${boundary}`,
      );
      expect(res.status).toBe(400);
      await expectNothingLeft();
    });
  });
});
