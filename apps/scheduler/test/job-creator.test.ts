import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';
import { Kube } from '@roam/kube';
import { renderKubeconfig } from '@roam/sim';
import { createTestDatabase, type TestDatabase } from '@roam/testing';
import pino from 'pino';

import { AdmissionRepository, type AdmittedRow } from '../src/admission/admission.repository.js';
import { JobCreator } from '../src/admission/job-creator.js';
import { DependencyInputsRepository } from '../src/dependencies/dependency-inputs.repository.js';
import { DependencyInputsService } from '../src/dependencies/dependency-inputs.service.js';
import { JobFilesService } from '../src/admission/job-files.js';
import { schedulerEnv } from '../src/scheduler.config.js';

const CONCURRENCY = 4;
const JOBS = 12;

const discovery = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'batch/v1',
  resources: [{ name: 'jobs', singularName: '', namespaced: true, kind: 'Job', verbs: [] }],
};

/**
 * A stand-in API server for Job creates: the first create is answered 429 + Retry-After, and
 * no create is answered until CONCURRENCY of them are in flight at once (so a serial creator
 * never gets an answer and the test fails).
 */
function apiServer() {
  const state = { posts: 0, inFlight: 0, maxInFlight: 0, created: new Set<string>() };
  let gateOpen = false;
  const held: (() => void)[] = [];
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/apis/batch/v1') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(discovery));
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.posts += 1;
      const first = state.posts === 1;
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { metadata: { name: string } };
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      const answer = () => {
        state.inFlight -= 1;
        if (first) {
          response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
          response.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', code: 429 }));
          return;
        }
        state.created.add(body.metadata.name);
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (gateOpen) return answer();
      held.push(answer);
      if (state.inFlight >= CONCURRENCY) {
        gateOpen = true;
        for (const release of held.splice(0)) release();
      }
    });
  });
  return { server, state };
}

describe('JobCreator', () => {
  let db: TestDatabase;
  let dir: string;
  let api: ReturnType<typeof apiServer>;
  let creator: JobCreator;
  let rows: AdmittedRow[];

  beforeAll(async () => {
    db = await createTestDatabase('job_creator');
    dir = await mkdtemp(join(tmpdir(), 'roam-job-creator-'));
    api = apiServer();
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    const { port } = api.server.address() as AddressInfo;
    await writeFile(join(dir, 'kubeconfig'), renderKubeconfig(`http://127.0.0.1:${port}`));

    await db.prisma.tenant.create({ data: { id: 'acme', namespace: 'roam-acme' } });
    const spec = jobSpecSchema.parse({
      image: 'busybox',
      command: ['true'],
      resources: { cpu: '10m', memory: '16Mi' },
    });
    rows = Array.from({ length: JOBS }, (_, i) => ({
      id: randomUUID(),
      tenantId: 'acme',
      namespace: 'roam-acme',
      name: `job-${i}`,
      attempt: 1,
      seq: 1,
      spec,
      inputsKey: null,
    }));
    await db.prisma.job.createMany({
      data: rows.map((row) => ({
        id: row.id,
        tenantId: 'acme',
        name: row.name,
        spec,
        cpuMillis: 10,
        memoryBytes: 16n << 20n,
        phase: 'Admitted',
        reason: 'ContainerCreating',
        admittedAt: new Date(),
      })),
    });

    const config = schedulerEnv.parse({
      DATABASE_URL: db.url,
      KUBE_CREATE_CONCURRENCY: String(CONCURRENCY),
    });
    creator = new JobCreator(
      Kube.fromKubeconfig(join(dir, 'kubeconfig'), 'roam-test'),
      new AdmissionRepository(db.prisma),
      new JobFilesService(
        null,
        config,
        new DependencyInputsService(new DependencyInputsRepository(db.prisma), config),
      ),
      config,
      pino({ level: 'silent' }),
    );
  });

  afterAll(async () => {
    await creator?.onModuleDestroy();
    api?.server.closeAllConnections();
    await new Promise<void>((resolve) => api?.server.close(() => resolve()));
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates admitted jobs several at a time, waits out a 429, confirms each once', async () => {
    // The same rows offered twice (a cycle and ensureCreated) are queued once.
    const [first, second] = await Promise.all([
      creator.enqueue(rows),
      creator.enqueue(rows.slice(0, 5)),
    ]);
    expect(first + second).toBe(JOBS);
    await creator.idle();

    expect(api.state.maxInFlight).toBe(CONCURRENCY);
    expect(api.state.created.size).toBe(JOBS);
    // One create was refused with 429 and tried again: every other job was posted once.
    expect(api.state.posts).toBe(JOBS + 1);
    const placed = await db.prisma.job.findMany({ select: { id: true, placement: true } });
    expect(placed).toHaveLength(JOBS);
    for (const job of placed) expect(job.placement).toMatchObject({ namespace: 'roam-acme' });
  });
});
