import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { AdmissionLoop } from '../apps/scheduler/src/admission/admission.loop.js';
import { AdmissionService } from '../apps/scheduler/src/admission/admission.service.js';
import { ClusterView } from '../apps/scheduler/src/admission/cluster-view.js';
import { storageEnv } from '../apps/storage/src/storage.config.js';
import { StorageModule } from '../apps/storage/src/storage.module.js';
import { SUMO_SCENARIO, zipOf } from '../apps/storage/test/zip-fixtures.js';
import { call, type Harness, register, startHarness } from './support/harness.js';

/** Rewrites every entry's declared uncompressed size to `claimed`; the data stays as it was. */
function lyingAboutSizes(data: Buffer, claimed: number): Buffer {
  const out = Buffer.from(data);
  for (let at = 0; at + 4 <= out.length; at++) {
    const signature = out.readUInt32LE(at);
    if (signature === 0x02014b50) out.writeUInt32LE(claimed, at + 24);
    else if (signature === 0x04034b50 && out.readUInt32LE(at + 22) !== 0)
      out.writeUInt32LE(claimed, at + 22);
    else if (signature === 0x08074b50) out.writeUInt32LE(claimed, at + 12);
  }
  return out;
}

/** Every object s3rver holds under `dir`. */
async function storedObjects(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.endsWith('._S3rver_object'));
}

const PENDING_CAP = 20;
const POD_SLOTS = 4;
const NOISY_ADDRESS = '203.0.113.7';
const QUIET_ADDRESS = '198.51.100.9';

/**
 * A noisy tenant uses every tenant limit at once (hostile globs and archives, priority 1000
 * batches up to its pending cap, a flood of bad keys) beside a quiet tenant, whose one job must
 * still take the first slot that frees up. Admission runs only when the test asks for it, so
 * "the first cycle after capacity is free" is one call, not a race.
 */
describe('a noisy tenant beside a quiet one', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  // With object storage configured, a cancelled job's Job goes once its log is archived.
  let storage: RoamApp<unknown> | undefined;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-abuse-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness(
      'abuse',
      {
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: `roam-${randomBytes(4).toString('hex')}`,
        MAX_PENDING_JOBS_PER_TENANT: String(PENDING_CAP),
        ADMISSION_MAX_PENDING_PER_TENANT: '5',
        ADMISSION_MAX_PENDING: '10',
        AUTH_FAILURES_BURST: '5',
        AUTH_FAILURES_PER_MINUTE: '0.01',
        TRUSTED_PROXIES: '127.0.0.0/8,::1,::ffff:127.0.0.1',
        INPUTS_MAX_UNCOMPRESSED_MB: '1',
      },
      {
        world: {
          pools: [
            {
              name: 'full',
              nodes: 1,
              capacity: {
                cpu: '16',
                memory: '64Gi',
                'ephemeral-storage': '200Gi',
                pods: String(POD_SLOTS),
              },
            },
          ],
        },
      },
    );
    const limits = { max_cpu: 100, max_memory_gi: 100, max_concurrent_jobs: 100 };
    storage = await createRoamApp({
      name: 'storage',
      schema: storageEnv,
      module: StorageModule,
      env: { ...h.env, PORT: '0' },
    });
    keys.noisy = await register(h.url, 'noisy', limits);
    keys.quiet = await register(h.url, 'quiet', limits);
    // Never used, so no gateway cache knows it.
    keys.bystander = await register(h.url, 'bystander', limits);
    await eventually(
      'the tenants to be ready',
      async () => (await h.prisma.tenant.count({ where: { status: 'ready' } })) === 3,
    );
  });

  afterAll(async () => {
    await storage?.close();
    await h?.close();
    await s3?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
  });

  const spec = (priority = 0) => ({
    image: 'busybox',
    command: ['sleep', '100000'],
    resources: { cpu: '100m', memory: '64Mi' },
    priority,
  });
  const batch = (n: number, priority: number) =>
    call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: Array.from({ length: n }, () => spec(priority)) },
      keys.noisy,
    );
  const from = (address: string, key: string) =>
    fetch(`${h.url}/api/v1/jobs?limit=1`, {
      headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': address },
    });
  const holding = (tenantId: string) =>
    h.prisma.job.findMany({
      where: {
        tenantId,
        OR: [{ status: 'running' }, { status: 'pending', admittedAt: { not: null } }],
      },
      select: { id: true },
    });

  it('refuses a glob over the wildcard bound, matches a bounded hostile one in linear time, and stores nothing of a lying archive', async () => {
    const template = (name: string, pattern: string) =>
      call(
        h.url,
        'POST',
        '/api/v1/templates',
        { name, spec: { ...spec(), inputs: { required: [pattern] } } },
        keys.noisy,
      );
    const over = await template('over', `${'*a'.repeat(16)}*b`);
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({
      type: 'https://roam.dev/problems/validation-error',
      detail: expect.stringMatching(/at most 16 wildcards/),
    });
    const bounded = await template('bounded', `${'*a'.repeat(15)}*b`);
    expect(bounded.status).toBe(201);

    const upload = async (templateName: string, zip: Buffer) => {
      const form = new FormData();
      form.set('spec', JSON.stringify({ template: templateName }));
      form.set('inputs', new Blob([zip]), 'inputs.zip');
      return fetch(`${h.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.noisy}` },
        body: form,
      });
    };
    // A backtracking matcher would take exponential time on this name; a linear one answers
    // that the required file is missing.
    const missing = await upload('bounded', await zipOf({ ['a'.repeat(200)]: 'x' }));
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({
      type: 'https://roam.dev/problems/invalid-inputs-archive',
      code: 'missing-required',
    });

    // 4 MB of zeros (over the 1 MB cap) deflate to a few kB; every header claims 10 bytes.
    const bomb = lyingAboutSizes(
      await zipOf({ 'scenario/zeros.bin': Buffer.alloc(4 * 1024 * 1024), ...SUMO_SCENARIO }),
      10,
    );
    const refused = await upload('sumo', bomb);
    expect(refused.status).toBe(413);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await refused.json()).toMatchObject({
      type: 'https://roam.dev/problems/invalid-inputs-archive',
      code: 'too-large-uncompressed',
    });
    expect(await h.prisma.job.count({ where: { tenantId: 'noisy' } })).toBe(0);
    expect(await storedObjects(s3dir)).toEqual([]);
  });

  it('fills the cluster, then is refused whole at its pending cap despite priority 1000', async () => {
    // The cluster is filled at priority 1000 too: higher-priority jobs of the same tenant would
    // preempt its running ones to make room on the nodes (docs/scheduling.md#borrowing), while
    // equal priority never preempts, so the backlog below stays pending, as counted.
    const fill = await batch(POD_SLOTS, 1000);
    expect(fill.status).toBe(201);
    await eventually('the noisy tenant to run on every pod slot', async () => {
      const running = await h.prisma.job.count({ where: { tenantId: 'noisy', status: 'running' } });
      if (running !== POD_SLOTS) throw new Error(`${running} of ${POD_SLOTS} running`);
      return running;
    });

    expect((await batch(8, 1000)).status).toBe(201);
    expect((await batch(8, 1000)).status).toBe(201);
    const over = await batch(8, 1000);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBeTruthy();
    expect(over.body).toMatchObject({
      type: 'https://roam.dev/problems/too-many-pending-jobs',
      cap: PENDING_CAP,
      pending: 16,
      incoming: 8,
    });
    // Nothing of the refused batch was written.
    expect(await h.prisma.job.count({ where: { tenantId: 'noisy' } })).toBe(POD_SLOTS + 16);
    expect(await h.prisma.job.count({ where: { tenantId: 'noisy', status: 'pending' } })).toBe(16);
  });

  it("limits a flood of bad keys per address, and not the quiet tenant's address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const response = await from(NOISY_ADDRESS, `sk-${randomBytes(24).toString('hex')}`);
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const limited = await from(NOISY_ADDRESS, `sk-${randomBytes(24).toString('hex')}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();

    // The quiet tenant, from its own address, is untouched by the flood.
    expect((await from(QUIET_ADDRESS, keys.quiet!)).status).toBe(200);
    // Documented: while an address is over its limit, a valid key no cache knows is refused
    // from that address too; a tenant sharing the flooder's address is locked out with it.
    expect((await from(NOISY_ADDRESS, keys.bystander!)).status).toBe(429);
    expect((await from(QUIET_ADDRESS, keys.bystander!)).status).toBe(200);
  });

  it("gives the first freed slot to the quiet tenant's job in the first cycle, not to the noisy backlog", async () => {
    const loop = h.scheduler.app.get(AdmissionLoop);
    const admission = h.scheduler.app.get(AdmissionService);
    const cluster = h.scheduler.app.get(ClusterView);

    const submitted = await call(h.url, 'POST', '/api/v1/jobs', spec(0), keys.quiet);
    expect(submitted.status).toBe(201);
    const quietId = submitted.body.id as string;
    await eventually('the quiet job to wait for capacity', async () => {
      const job = await h.prisma.job.findUniqueOrThrow({ where: { id: quietId } });
      if (job.reason !== 'InsufficientCapacity') throw new Error(`quiet job: ${job.reason}`);
      return job;
    });
    // From here on, admission runs only when this test calls it.
    await loop.onModuleDestroy();
    expect((await admission.cycle()).admitted).toBe(0);

    const [freed] = await holding('noisy');
    const cancelled = await call(
      h.url,
      'DELETE',
      `/api/v1/jobs/${freed!.id}`,
      undefined,
      keys.noisy,
    );
    expect(cancelled.body.status).toBe('cancelled');
    await eventually('the cancelled job’s pod to leave the scheduler’s view', () => {
      const { nodes, placed } = cluster.snapshot();
      const used = nodes[0]?.pods?.used;
      if (placed.has(freed!.id) || used !== POD_SLOTS - 1)
        throw new Error(`${used} pod slots used`);
      return used;
    });

    const cycle = await admission.cycle();
    expect(cycle).toMatchObject({ leader: true, admitted: 1 });
    const quiet = await h.prisma.job.findUniqueOrThrow({ where: { id: quietId } });
    expect(quiet.admittedAt).not.toBeNull();
    expect((await holding('noisy')).length).toBe(POD_SLOTS - 1);
    expect(
      await h.prisma.job.count({
        where: { tenantId: 'noisy', status: 'pending', admittedAt: null },
      }),
    ).toBe(16);
  });
});
