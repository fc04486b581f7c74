import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import {
  FsObjectStore,
  listAll,
  logKey,
  MinioObjectStore,
  type ObjectStore,
  ObjectNotFound,
  objectStoreFromConfig,
  pvcObjectStore,
  resultKey,
  type RunningS3rver,
  startS3rver,
} from '../src/index.js';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let s3: RunningS3rver;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-object-store-'));
  s3 = await startS3rver({ directory: join(dir, 's3') });
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const configFor = (bucket: string) => ({
  S3_ENDPOINT: s3.endpoint,
  S3_BUCKET: bucket,
  S3_REGION: 'us-east-1',
  S3_ACCESS_KEY: 'S3RVER',
  S3_SECRET_KEY: 'S3RVER',
  S3_PATH_STYLE: true,
});

/** The contract both adapters keep. */
function contract(name: string, make: () => Promise<ObjectStore>) {
  describe(`${name}: the ObjectStore contract`, () => {
    let store: ObjectStore;
    const t = `t-${randomBytes(3).toString('hex')}`;

    beforeAll(async () => {
      store = await make();
    });

    it('puts, stats, gets whole and by range', async () => {
      const key = resultKey(t, 'job-1', 'out/a.txt');
      await store.put(
        key,
        Readable.from([Buffer.from('hello '), Buffer.from('world')]),
        11,
        'text/plain',
      );
      expect((await store.stat(key))?.size).toBe(11);
      expect(await text(await store.get(key))).toBe('hello world');
      expect(await text(await store.get(key, { start: 6, end: 10 }))).toBe('world');
      expect(await text(await store.get(key, { start: 6 }))).toBe('world');
    });

    it('refuses a stream longer than announced and keeps nothing', async () => {
      const key = resultKey(t, 'job-1', 'long.txt');
      await expect(
        store.put(key, Readable.from([Buffer.from('0123456789')]), 4, 'text/plain'),
      ).rejects.toThrow();
      expect(await store.stat(key)).toBeUndefined();
    });

    it('answers missing objects with undefined / ObjectNotFound', async () => {
      expect(await store.stat(resultKey(t, 'nope', 'x'))).toBeUndefined();
      await expect(store.get(resultKey(t, 'nope', 'x'))).rejects.toBeInstanceOf(ObjectNotFound);
    });

    it('lists in pages under a prefix, and removes one or all', async () => {
      for (let i = 0; i < 7; i += 1) {
        const body = Buffer.from(`file ${i}`);
        await store.put(resultKey(t, 'job-2', `f${i}.txt`), body, body.length, 'text/plain');
      }
      const log = Buffer.from('2026-01-01T00:00:00Z line\n');
      await store.put(logKey(t, 'job-2', 1), log, log.length, 'text/plain');
      const prefix = `tenants/${t}/jobs/job-2/results/`;
      const first = await store.list(prefix, { limit: 3 });
      expect(first.items.map((i) => i.key)).toEqual([0, 1, 2].map((i) => `${prefix}f${i}.txt`));
      expect(first.next).toBe(`${prefix}f2.txt`);
      const second = await store.list(prefix, { after: first.next!, limit: 3 });
      expect(second.items.map((i) => i.key)).toEqual([3, 4, 5].map((i) => `${prefix}f${i}.txt`));
      const all: string[] = [];
      for await (const o of listAll(store, prefix, 2)) all.push(o.key);
      expect(all).toHaveLength(7);
      await store.remove(`${prefix}f0.txt`);
      await store.remove(`${prefix}f0.txt`);
      expect(await store.removePrefix(prefix)).toBe(6);
      expect((await store.list(prefix)).items).toEqual([]);
      expect(await store.stat(logKey(t, 'job-2', 1))).toBeDefined();
    });
  });
}

contract('s3 (s3rver)', async () => (await objectStoreFromConfig(configFor('contract-s3')))!);
contract('pvc (directory)', () => Promise.resolve(pvcObjectStore(join(dir, 'pvc'))));

describe('MinioObjectStore specifics', () => {
  it('creates its bucket when missing, once', async () => {
    const bucket = `auto-${randomBytes(3).toString('hex')}`;
    const store = new MinioObjectStore(configFor(bucket));
    await store.ensureBucket();
    await store.ensureBucket();
    await store.put('k', Buffer.from('x'), 1, 'text/plain');
    expect((await store.stat('k'))?.size).toBe(1);
  });

  it('hands out presigned GET and PUT URLs that work without credentials', async () => {
    const store = (await objectStoreFromConfig(configFor('presign')))!;
    const put = await store.presignPut('tenants/a/jobs/b/inputs/inputs.zip', 60);
    expect((await fetch(put!, { method: 'PUT', body: 'zipped' })).status).toBe(200);
    const get = await store.presignGet('tenants/a/jobs/b/inputs/inputs.zip', 60, {
      filename: 'in.zip',
    });
    const response = await fetch(get!);
    expect(await response.text()).toBe('zipped');
    expect(response.headers.get('content-disposition')).toContain('in.zip');
  });
});

describe('the PVC layout', () => {
  it('keeps results at <tenant>/results/<job>/ as SUMO-K8 does, and maps back to keys', async () => {
    const root = join(dir, 'layout');
    const store = pvcObjectStore(root);
    const key = resultKey('acme', 'job-9', 'tripinfo.xml');
    await store.put(key, Buffer.from('<x/>'), 4, 'application/xml');
    expect(await readFile(join(root, 'acme/results/job-9/tripinfo.xml'), 'utf8')).toBe('<x/>');
    expect((await store.list('tenants/acme/')).items.map((i) => i.key)).toEqual([key]);
    expect(await store.presignGet(key, 60)).toBeUndefined();
  });

  it('finds each tenant volume where a {tenant} segment of the root puts it', async () => {
    const volumes = join(dir, 'volumes');
    const store = pvcObjectStore(`${volumes}/roam-{tenant}/roam-results`);
    const key = resultKey('acme', 'job-9', 'out/summary.txt');
    await store.put(key, Buffer.from('ok'), 2, 'text/plain');
    expect(
      await readFile(join(volumes, 'roam-acme/roam-results/results/job-9/out/summary.txt'), 'utf8'),
    ).toBe('ok');
    await mkdir(join(volumes, 'roam-acme/other/results/job-9'), { recursive: true });
    await writeFile(join(volumes, 'roam-acme/other/results/job-9/stray.txt'), 'not a key');
    expect((await store.list('tenants/')).items.map((i) => i.key)).toEqual([key]);
  });

  it('refuses keys that would leave the root', async () => {
    const store = new FsObjectStore(join(dir, 'fs'));
    await expect(store.put('../escape', Buffer.from('x'), 1, 'text/plain')).rejects.toThrow(
      /escapes/,
    );
  });
});
