// Storage figures: (1) upload throughput of a 50 MB input archive through SUMO-K8's
// `POST /jobs` (multipart → temp file → zip checks → object storage), (2) latency of
// `GET /api/v1/jobs/{id}/results` for a job with 1,000 result files (rows + objects, each
// listed with a presigned URL), (3) results collection: the storage worker streaming a job's
// results upload (a tar.gz of 1,000 small files and one large one, as the roam-results sidecar
// PUTs it) apart into object storage with checksums and rows. Real Postgres, NATS, s3rver and
// the Kubernetes simulator on 127.0.0.1; prints figures, asserts nothing.
// `pnpm bench:storage` (BENCH_UPLOAD_MB, BENCH_RESULT_FILES, BENCH_ROUNDS).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { gatewayEnv } from '@roam/config';
import {
  MinioObjectStore,
  packTarGz,
  resultKey,
  resultsUploadKey,
  startS3rver,
} from '@roam/object-store';
import { createRoamApp } from '@roam/runtime';
import {
  createTestDatabase,
  deleteTestStreams,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';
import yazl from 'yazl';

// @ts-expect-error -- the built module (bench runs against dist, like the apps do).
import { GatewayModule } from '../apps/gateway/dist/gateway.module.js';
// @ts-expect-error -- built, as above.
import { startSimulator } from '../apps/sim/dist/index.js';
// @ts-expect-error -- built, as above.
import { storageEnv } from '../apps/storage/dist/storage.config.js';
// @ts-expect-error -- built, as above.
import { StorageModule } from '../apps/storage/dist/storage.module.js';
// @ts-expect-error -- built, as above.
import { StorageService } from '../apps/storage/dist/storage.service.js';

const UPLOAD_MB = Number(process.env.BENCH_UPLOAD_MB ?? 50);
const RESULT_FILES = Number(process.env.BENCH_RESULT_FILES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789';

async function zipOf(files: Record<string, Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, content] of Object.entries(files))
    zip.addBuffer(content, path, { compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const dir = await mkdtemp(join(tmpdir(), 'roam-bench-storage-'));
const s3 = await startS3rver({ directory: join(dir, 's3') });
const db = await createTestDatabase('bench_storage');
const prefix = testSubjectPrefix();
const bucket = 'bench';
/** What every process of the bench shares: its database, NATS prefix and bucket. */
const shared = {
  DATABASE_URL: db.url,
  NATS_URL: testNatsUrl(),
  NATS_SUBJECT_PREFIX: prefix,
  PORT: '0',
  LOG_LEVEL: 'silent',
  S3_ENDPOINT: s3.endpoint,
  S3_BUCKET: bucket,
};
const gateway = await createRoamApp({
  name: 'gateway',
  schema: gatewayEnv,
  module: GatewayModule,
  env: {
    ...shared,
    ROAM_ADMIN_TOKEN: ADMIN,
    ROAM_REGISTRATION: 'open',
    RATE_LIMIT_PER_SECOND: '10000',
    RATE_LIMIT_BURST: '10000',
    MAX_FILE_SIZE_MB: String(UPLOAD_MB + 8),
  },
});
try {
  const tenant = 'bench';
  const registered = await fetch(`${gateway.url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: tenant, max_cpu: 64, max_memory_gi: 256 }),
  });
  const { api_key: key } = (await registered.json()) as { api_key: string };
  const auth = { authorization: `Bearer ${key}` };
  const createJob = async () => {
    const created = await fetch(`${gateway.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        image: 'busybox',
        command: ['true'],
        resources: { cpu: '100m', memory: '64Mi' },
      }),
    });
    return ((await created.json()) as { id: string }).id;
  };

  // (1) Upload throughput.
  const payload = randomBytes(UPLOAD_MB * 1024 * 1024);
  const archive = await zipOf({
    'scenario/run.sumocfg': Buffer.from('<configuration/>'),
    'scenario/data.bin': payload,
  });
  const form = new FormData();
  form.set('scenario_id', 'bench');
  form.set('sumo_files', new Blob([archive]), 'scenario.zip');
  const started = performance.now();
  const submitted = await fetch(`${gateway.url}/jobs`, {
    method: 'POST',
    headers: auth,
    body: form,
  });
  const seconds = (performance.now() - started) / 1000;
  const body = (await submitted.json()) as { job_id?: string };
  if (submitted.status !== 200)
    throw new Error(`upload answered ${submitted.status}: ${JSON.stringify(body)}`);
  const mb = archive.length / (1024 * 1024);
  console.log(
    `upload: ${mb.toFixed(1)} MiB archive accepted in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(1)} MiB/s (job ${body.job_id})`,
  );

  // (2) Listing latency for RESULT_FILES files.
  const jobId = await createJob();
  const store = new MinioObjectStore({
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: bucket,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    S3_PATH_STYLE: true,
  });
  const rows: {
    jobId: string;
    tenantId: string;
    path: string;
    size: bigint;
    checksum: string;
    contentType: string;
    storageKey: string;
  }[] = [];
  for (let i = 0; i < RESULT_FILES; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, RESULT_FILES - i) }, async (_, j) => {
        const path = `out/tripinfo-${String(i + j).padStart(4, '0')}.xml`;
        const content = Buffer.from(`<tripinfos n="${i + j}"/>`);
        const storageKey = resultKey(tenant, jobId, path);
        await store.put(storageKey, content, content.length, 'application/xml');
        rows.push({
          jobId,
          tenantId: tenant,
          path,
          size: BigInt(content.length),
          checksum: createHash('sha256').update(content).digest('hex'),
          contentType: 'application/xml',
          storageKey,
        });
      }),
    );
  }
  await db.prisma.resultFile.createMany({ data: rows });
  const times: number[] = [];
  let files = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const t0 = performance.now();
    const res = await fetch(`${gateway.url}/api/v1/jobs/${jobId}/results`, { headers: auth });
    const listing = (await res.json()) as { files: unknown[] };
    times.push(performance.now() - t0);
    files = listing.files.length;
  }
  times.sort((a, b) => a - b);
  console.log(
    `results listing: ${files} files, ${ROUNDS} requests: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`,
  );

  // (3) Results collection from one upload.
  const collectId = await createJob();
  const { attempt } = await db.prisma.job.findUniqueOrThrow({ where: { id: collectId } });
  const entries: [string, Buffer][] = Array.from({ length: RESULT_FILES }, (_, i) => [
    `out/tripinfo-${String(i).padStart(4, '0')}.xml`,
    randomBytes(1024),
  ]);
  entries.push(['out/big.bin', randomBytes(UPLOAD_MB * 1024 * 1024)]);
  const upload = await packTarGz(entries);
  const uploadKey = resultsUploadKey(tenant, collectId, attempt);
  await store.put(uploadKey, upload, upload.length, 'application/gzip');
  const kubeDir = join(dir, 'kube');
  const sim = await startSimulator({ port: 0, kubeconfigPath: join(kubeDir, 'kubeconfig') });
  const storage = await createRoamApp({
    name: 'storage',
    schema: storageEnv,
    module: StorageModule,
    env: { ...shared, KUBECONFIG: sim.kubeconfigPath },
  });
  try {
    const t0 = performance.now();
    await storage.app.get(StorageService).storeJob(collectId);
    const took = (performance.now() - t0) / 1000;
    const kept = await db.prisma.resultFile.count({ where: { jobId: collectId } });
    const expanded = entries.reduce((sum, [, content]) => sum + content.length, 0) / 2 ** 20;
    console.log(
      `results collection: ${kept} files (${expanded.toFixed(1)} MiB expanded, ${(upload.length / 2 ** 20).toFixed(1)} MiB upload) unpacked, hashed, stored and indexed in ${took.toFixed(2)} s = ${(kept / took).toFixed(0)} files/s, ${(expanded / took).toFixed(1)} MiB/s`,
    );
  } finally {
    await storage.close();
    await sim.close();
  }
} finally {
  await gateway.close();
  await db.drop();
  await deleteTestStreams(prefix);
  await s3.close();
  await rm(dir, { recursive: true, force: true });
}
