import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MinioObjectStore, type RunningS3rver, startS3rver } from '@roam/object-store';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper } from '../../../test/support/jobs-api.js';

/** The entry names a zip's central directory lists, in order. */
const zipEntries = (zip: Buffer): string[] =>
  [...zip.toString('latin1').matchAll(/PK\x01\x02[\s\S]{42}([^\x00]*?\.xml)/g)].map((m) => m[1]!);

describe("an array's or a group's results together (s3rver)", () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let key: string;
  let other: string;
  let store: MinioObjectStore;
  const bucket = `roam-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('array_results', { S3_ENDPOINT: s3.endpoint, S3_BUCKET: bucket });
    const limits = { max_cpu: 10, max_memory_gi: 10, max_concurrent_jobs: 5 };
    key = await register(h.url, 'zip-a', limits);
    other = await register(h.url, 'zip-b', limits);
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
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  /** Stores one result file of a job and records it, as the storage worker does. */
  async function recordResult(tenantId: string, jobId: string, path: string): Promise<void> {
    const body = Buffer.from(`${path} of ${jobId}\n`);
    const storageKey = `tenants/${tenantId}/jobs/${jobId}/results/${path}`;
    await store.put(storageKey, body, body.length, 'application/xml');
    await h.prisma.resultFile.create({
      data: {
        jobId,
        tenantId,
        path,
        size: BigInt(body.length),
        checksum: '0'.repeat(64),
        contentType: 'application/xml',
        storageKey,
      },
    });
  }

  const get = (path: string, apiKey: string) =>
    fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });

  /** Submits jobs in a group and cancels it, so that nothing runs; their ids by name. */
  async function group(
    name: string,
    jobs: string[],
    apiKey: string,
  ): Promise<Record<string, string>> {
    const batch = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: jobs.map((job) => sleeper({ name: job, group: name })) },
      apiKey,
    );
    expect(batch.status).toBe(201);
    await call(h.url, 'DELETE', `/api/v1/groups/${name}`, undefined, apiKey);
    const rows = await h.prisma.job.findMany({ where: { groupName: name, name: { in: jobs } } });
    return Object.fromEntries(rows.map((row) => [row.name, row.id]));
  }

  it('streams every element’s results under <index>/, and indexes them in the CSV', async () => {
    const submitted = await call(
      h.url,
      'POST',
      '/api/v1/arrays',
      { ...sleeper({ name: 'zipped' }), array: { size: 3, parallelism: 1 } },
      key,
    );
    const id = submitted.body.id as string;
    await call(h.url, 'DELETE', `/api/v1/arrays/${id}`, undefined, key);
    // Elements 0 and 2 have results.
    for (const index of [0, 2]) {
      const element = await h.prisma.job.findFirstOrThrow({
        where: { arrayId: id, arrayIndex: index },
      });
      await recordResult('zip-a', element.id, `tripinfo-${index}.xml`);
    }

    const response = await get(`/api/v1/arrays/${id}/results.zip`, key);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const zip = Buffer.from(await response.arrayBuffer());
    expect(zip.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    // The central directory names every entry, and nothing else.
    expect(zipEntries(zip)).toEqual(['0/tripinfo-0.xml', '2/tripinfo-2.xml']);

    const csv = await get(`/api/v1/arrays/${id}/index.csv`, key);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('index,job_id,status,exit_code,duration_seconds,result_files');
    expect(lines.slice(1).map((line) => line.split(',').at(-1))).toEqual([
      'tripinfo-0.xml',
      '',
      'tripinfo-2.xml',
    ]);
  });

  it('streams a group’s results under <job name>-<job id>/, and indexes its jobs', async () => {
    const ids = await group('zip-sweep', ['prep', 'sim', 'agg'], key);
    await recordResult('zip-a', ids.prep!, 'routes.xml');
    await recordResult('zip-a', ids.agg!, 'summary.xml');
    await recordResult('zip-a', ids.agg!, 'tripinfo.xml');
    // A job outside the group, with results of its own, stays out.
    const lone = await call(h.url, 'POST', '/api/v1/jobs', sleeper({ name: 'lone' }), key);
    await recordResult('zip-a', lone.body.id as string, 'lone.xml');

    const response = await get('/api/v1/groups/zip-sweep/results.zip', key);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toContain('group-zip-sweep-results.zip');
    const byId = Object.entries(ids).sort(([, a], [, b]) => a.localeCompare(b));
    const expected = byId.flatMap(([name, id]) =>
      ({ prep: ['routes.xml'], sim: [], agg: ['summary.xml', 'tripinfo.xml'] })[name]!.map(
        (file) => `${name}-${id}/${file}`,
      ),
    );
    expect(zipEntries(Buffer.from(await response.arrayBuffer()))).toEqual(expected);

    const csv = await get('/api/v1/groups/zip-sweep/index.csv', key);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...rows] = (await csv.text()).trimEnd().split('\r\n');
    expect(header).toBe('name,job_id,status,exit_code,duration_seconds,result_files');
    expect(rows.map((row) => row.split(','))).toEqual(
      byId.map(([name, id]) => [
        name,
        id,
        'cancelled',
        '',
        '',
        { prep: 'routes.xml', sim: '', agg: 'summary.xml;tripinfo.xml' }[name],
      ]),
    );
  });

  it('answers a group without results with an empty zip and its jobs listed', async () => {
    const ids = await group('zip-empty', ['quiet'], key);
    const response = await get('/api/v1/groups/zip-empty/results.zip', key);
    expect(response.status).toBe(200);
    const zip = Buffer.from(await response.arrayBuffer());
    // Only the end-of-central-directory record.
    expect(zip.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const csv = await (await get('/api/v1/groups/zip-empty/index.csv', key)).text();
    expect(csv.trimEnd().split('\r\n').slice(1)).toEqual([`quiet,${ids.quiet},cancelled,,,`]);
  });

  it('hides another tenant’s group, an unknown one, and refuses a malformed name', async () => {
    const theirs = await group('zip-theirs', ['secret'], other);
    await recordResult('zip-b', theirs.secret!, 'secret.xml');
    for (const path of ['results.zip', 'index.csv']) {
      const foreign = await get(`/api/v1/groups/zip-theirs/${path}`, key);
      expect(foreign.status).toBe(404);
      expect(foreign.headers.get('content-type')).toContain('application/problem+json');
      expect(((await foreign.json()) as { detail: string }).detail).toBe(
        'group zip-theirs not found',
      );
      expect((await get(`/api/v1/groups/never-used/${path}`, key)).status).toBe(404);
      expect((await get(`/api/v1/groups/-bad/${path}`, key)).status).toBe(400);
      expect((await get(`/api/v1/groups/zip-theirs/${path}`, other)).status).toBe(200);
    }
  });
});
