import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  listAll,
  logKey,
  MinioObjectStore,
  replicaLogKey,
  type RunningS3rver,
  startS3rver,
} from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';
import yauzl from 'yauzl';

import { storageEnv } from '../src/storage.config.js';
import { StorageModule } from '../src/storage.module.js';
import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

const TENANT = 'replicas-a';
const NAMESPACE = `roam-${TENANT}`;

function unzipNames(data: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(data, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const out: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks).toString('utf8');
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

/**
 * Results and logs of multi-pod jobs per replica, end to end with real Postgres, NATS, s3rver,
 * the storage worker and the Kubernetes simulator: every pod's results kept apart, each
 * replica's log readable after its pods are gone, JobSet restarts counted on the job.
 */
describe('multi-pod jobs: results, logs and restarts per replica', () => {
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
    h = await startHarness('replicas', { S3_ENDPOINT: s3.endpoint, S3_BUCKET: bucket });
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
    key = await register(h.url, TENANT, { max_cpu: 16, max_memory_gi: 32 });
    await eventually(
      'the tenant to be ready',
      async () => (await h.prisma.tenant.findUnique({ where: { id: TENANT } }))?.status === 'ready',
    );
  }, 120_000);

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
        return job.status === status && job;
      },
      { timeoutMs: 90_000 },
    );
  const stored = (id: string) =>
    eventually(
      `job ${id} to be stored`,
      async () => (await h.prisma.storedJob.findUnique({ where: { jobId: id } })) !== null,
      { timeoutMs: 60_000 },
    );
  const raw = async (path: string) => {
    const response = await fetch(`${h.url}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return { response, text: await response.text() };
  };

  it('keeps each pod of an indexed job its own results, listed, downloadable and zipped per replica', async () => {
    // Every pod writes the same file name with its own content, and a file of its own.
    const id = await submit({
      command: [
        'sh',
        '-c',
        'echo "from $JOB_COMPLETION_INDEX" > /roam/results/out.txt; echo "part $JOB_COMPLETION_INDEX" > /roam/results/part-$JOB_COMPLETION_INDEX.txt; echo "pod $JOB_COMPLETION_INDEX done"',
      ],
      parallelism: 3,
    });
    await until(id, 'succeeded');
    await stored(id);

    const listing = await call(h.url, 'GET', `/api/v1/jobs/${id}/results`, undefined, key);
    expect(listing.status).toBe(200);
    expect(listing.body.files.map((f: { name: string }) => f.name)).toEqual([
      '0/out.txt',
      '0/part-0.txt',
      '1/out.txt',
      '1/part-1.txt',
      '2/out.txt',
      '2/part-2.txt',
    ]);
    for (const index of [0, 1, 2]) {
      const file = await raw(`/api/v1/jobs/${id}/results/${index}/out.txt`);
      expect(file.response.status).toBe(200);
      expect(file.text).toBe(`from ${index}\n`);
    }

    const one = await call(h.url, 'GET', `/api/v1/jobs/${id}/results?replica=1`, undefined, key);
    expect(one.body.files.map((f: { name: string }) => f.name)).toEqual([
      '1/out.txt',
      '1/part-1.txt',
    ]);
    expect(
      (await call(h.url, 'GET', `/api/v1/jobs/${id}/results?replica=3`, undefined, key)).status,
    ).toBe(404);
    expect(
      (await call(h.url, 'GET', `/api/v1/jobs/${id}/results?replica=Bad_1`, undefined, key)).status,
    ).toBe(400);

    const zip = await fetch(`${h.url}/api/v1/jobs/${id}/results.zip`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(zip.status).toBe(200);
    const all = await unzipNames(Buffer.from(await zip.arrayBuffer()));
    expect(Object.keys(all).sort()).toEqual(
      listing.body.files.map((f: { name: string }) => f.name),
    );
    expect(all['2/out.txt']).toBe('from 2\n');
    const zip1 = await fetch(`${h.url}/api/v1/jobs/${id}/results.zip?replica=2`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(Object.keys(await unzipNames(Buffer.from(await zip1.arrayBuffer()))).sort()).toEqual([
      '2/out.txt',
      '2/part-2.txt',
    ]);

    // The uploads and their manifest are gone once unpacked.
    const left: string[] = [];
    for await (const object of listAll(store, `tenants/${TENANT}/jobs/${id}/results/.roam/`))
      left.push(object.key);
    expect(left).toEqual([]);

    // Each replica's log stays readable per replica after the pods are deleted, and the whole
    // log marks every line with its replica.
    await h.kube.delete({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: NAMESPACE,
      name: `roam-${id}-1`,
    });
    await eventually('the pods to be gone', async () => {
      const pods = await h.kube.list('v1', 'Pod', {
        namespace: NAMESPACE,
        labelSelector: `roam.dev/job-id=${id}`,
      });
      return pods.items.length === 0;
    });
    for (const index of [0, 1, 2]) {
      const log = await raw(`/api/v1/jobs/${id}/logs?replica=${index}`);
      expect(log.response.status).toBe(200);
      expect(log.response.headers.get('roam-log-source')).toBe('archive');
      expect(log.text).toContain(`pod ${index} done`);
      for (const other of [0, 1, 2].filter((i) => i !== index))
        expect(log.text).not.toContain(`pod ${other} done`);
    }
    const whole = await raw(`/api/v1/jobs/${id}/logs`);
    expect(whole.response.headers.get('roam-log-source')).toBe('archive');
    for (const index of [0, 1, 2]) expect(whole.text).toContain(`[${index}] pod ${index} done`);
    expect((await raw(`/api/v1/jobs/${id}/logs?replica=3`)).response.status).toBe(404);
  });

  it("archives a 40-pod gang's logs: each replica's own, and the whole log merged by time as a stable sort of every line", async () => {
    const id = await submit({
      command: [
        'sh',
        '-c',
        'echo "pod $JOB_COMPLETION_INDEX first"; echo "pod $JOB_COMPLETION_INDEX second"; echo "pod $JOB_COMPLETION_INDEX third"',
      ],
      resources: { cpu: '100m', memory: '64Mi' },
      parallelism: 40,
    });
    await until(id, 'succeeded');
    await eventually(
      'the attempt log archived',
      async () =>
        (await h.prisma.logArchive.findFirst({ where: { jobId: id, attempt: 1 } })) !== null,
      { timeoutMs: 60_000 },
    );
    const read = async (objectKey: string) => {
      const chunks: Buffer[] = [];
      for await (const chunk of await store.get(objectKey)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    };
    const replicas = Array.from({ length: 40 }, (_, i) => String(i));
    const perReplica = await Promise.all(
      replicas.map((replica) => read(replicaLogKey(TENANT, id, 1, replica))),
    );
    perReplica.forEach((text, i) => {
      const lines = text.split('\n').filter((line) => line !== '');
      expect(lines.map((line) => line.slice(line.indexOf(' ') + 1))).toEqual([
        `pod ${i} first`,
        `pod ${i} second`,
        `pod ${i} third`,
      ]);
    });
    // What the whole log was when it was built in memory: every line, a stable sort by time.
    const expected = perReplica
      .flatMap((text, i) =>
        text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => {
            const space = line.indexOf(' ');
            return {
              at: Date.parse(line.slice(0, space)),
              line: `${line.slice(0, space)} [${i}] ${line.slice(space + 1)}\n`,
            };
          }),
      )
      .sort((a, b) => a.at - b.at)
      .map((entry) => entry.line)
      .join('');
    const whole = await read(logKey(TENANT, id, 1));
    expect(whole.split('\n')).toHaveLength(40 * 3 + 1);
    expect(whole).toBe(expected);
    const archived = await h.prisma.logArchive.findFirstOrThrow({
      where: { jobId: id, attempt: 1 },
    });
    expect(Number(archived.size)).toBe(Buffer.byteLength(whole));
    expect(archived.error).toBeNull();
  });

  it('keeps a JobSet replica’s results and log apart after its pods are gone', async () => {
    const id = await submit({
      command: ['sh', '-c', 'echo "driver up"; echo driver > /roam/results/role.txt'],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        {
          name: 'worker',
          replicas: 2,
          command: [
            'sh',
            '-c',
            'echo "worker $ROAM_REPLICA_INDEX up"; echo "worker $ROAM_REPLICA_INDEX" > /roam/results/role.txt',
          ],
        },
      ],
    });
    await until(id, 'succeeded');
    await stored(id);
    const listing = await call(h.url, 'GET', `/api/v1/jobs/${id}/results`, undefined, key);
    expect(listing.body.files.map((f: { name: string }) => f.name)).toEqual([
      'driver-0/role.txt',
      'worker-0/role.txt',
      'worker-1/role.txt',
    ]);
    expect((await raw(`/api/v1/jobs/${id}/results/worker-1/role.txt`)).text).toBe('worker 1\n');
    await h.kube.delete({
      apiVersion: 'jobset.x-k8s.io/v1alpha2',
      kind: 'JobSet',
      namespace: NAMESPACE,
      name: `r${id.replaceAll('-', '')}-1`,
    });
    await eventually(
      'the pods to be gone',
      async () =>
        (
          await h.kube.list('v1', 'Pod', {
            namespace: NAMESPACE,
            labelSelector: `roam.dev/job-id=${id}`,
          })
        ).items.length === 0,
      { timeoutMs: 60_000 },
    );
    const worker1 = await raw(`/api/v1/jobs/${id}/logs?replica=worker-1`);
    expect(worker1.response.headers.get('roam-log-source')).toBe('archive');
    expect(worker1.text).toContain('worker 1 up');
    expect(worker1.text).not.toContain('driver up');
    const whole = await raw(`/api/v1/jobs/${id}/logs`);
    expect(whole.text).toContain('[driver-0] driver up');
    expect(whole.text).toContain('[worker-0] worker 0 up');
  });

  it("records a JobSet's restarts on the job: its count, /explain and a job.restarted event each, no retry used", async () => {
    const id = await submit({
      command: ['sh', '-c', 'sleep 5'],
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        { name: 'worker', replicas: 1, command: ['sh', '-c', 'exit 3'] },
      ],
      failure_policy: { max_restarts: 2 },
    });
    const job = await until(id, 'failed');
    // Two restarts, then the JobSet failed: one attempt, no retry of roam's.
    expect(job).toMatchObject({ attempt: 1, restarts: 2 });

    const explain = await call(h.url, 'GET', `/api/v1/jobs/${id}/explain`, undefined, key);
    expect(explain.status).toBe(200);
    expect(explain.body.restarts.count).toBe(2);
    expect(explain.body.restarts.message).toContain('at most 2 per attempt');

    const events = await eventually('the restart events', async () => {
      const found = await h.prisma.event.findMany({
        where: { subject: `jobs/${id}`, type: 'roam.evt.v1.job.restarted' },
        orderBy: { position: 'asc' },
      });
      return found.length === 2 && found;
    });
    expect(
      events.map((event) => (event.envelope as { data: { restarts: number } }).data.restarts),
    ).toEqual([1, 2]);
    const history = await h.prisma.jobHistory.findMany({
      where: { jobId: id },
      orderBy: { seq: 'asc' },
    });
    const restarts = history.filter((row) =>
      row.message?.includes('restarted by its failure policy'),
    );
    expect(restarts.map((row) => row.phase)).toEqual(
      restarts.map(() => expect.stringMatching(/^(Admitted|Running)$/)),
    );
    expect(restarts).toHaveLength(2);
    expect(history.at(-1)?.phase).toBe('Failed');
  });
});
