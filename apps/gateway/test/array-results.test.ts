import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MinioObjectStore, type RunningS3rver, startS3rver } from '@roam/object-store';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper } from '../../../test/support/jobs-api.js';

describe("an array's results as one zip (s3rver)", () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let key: string;
  const bucket = `roam-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('array_results', { S3_ENDPOINT: s3.endpoint, S3_BUCKET: bucket });
    key = await register(h.url, 'zip-a', {
      max_cpu: 10,
      max_memory_gi: 10,
      max_concurrent_jobs: 5,
    });
  });

  afterAll(async () => {
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

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
    const store = new MinioObjectStore({
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY: 'S3RVER',
      S3_SECRET_KEY: 'S3RVER',
      S3_PATH_STYLE: true,
    });
    // Elements 0 and 2 have results, as the storage worker records them.
    for (const index of [0, 2]) {
      const element = await h.prisma.job.findFirstOrThrow({
        where: { arrayId: id, arrayIndex: index },
      });
      const body = Buffer.from(`tripinfo of element ${index}\n`);
      const storageKey = `tenants/zip-a/jobs/${element.id}/results/tripinfo-${index}.xml`;
      await store.put(storageKey, body, body.length, 'application/xml');
      await h.prisma.resultFile.create({
        data: {
          jobId: element.id,
          tenantId: 'zip-a',
          path: `tripinfo-${index}.xml`,
          size: BigInt(body.length),
          checksum: '0'.repeat(64),
          contentType: 'application/xml',
          storageKey,
        },
      });
    }

    const response = await fetch(`${h.url}/api/v1/arrays/${id}/results.zip`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const zip = Buffer.from(await response.arrayBuffer());
    expect(zip.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    // The central directory names every entry, and nothing else.
    const names = [...zip.toString('latin1').matchAll(/PK\x01\x02[\s\S]{42}([^\x00]*?\.xml)/g)].map(
      (m) => m[1],
    );
    expect(names).toEqual(['0/tripinfo-0.xml', '2/tripinfo-2.xml']);

    const csv = await fetch(`${h.url}/api/v1/arrays/${id}/index.csv`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines.slice(1).map((line) => line.split(',').at(-1))).toEqual([
      'tripinfo-0.xml',
      '',
      'tripinfo-2.xml',
    ]);
  });
});
