import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'minio';

import { type RunningS3rver, startS3rver } from '../src/index.js';

/**
 * startS3rver keeps s3rver's bucket lookups and bucket settings in memory (they were read from
 * disk on every request): what the S3 API changes must still apply at once.
 */
describe('s3rver as started for development and tests', () => {
  let s3: RunningS3rver;
  let dir: string;
  let client: Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roam-s3rver-'));
    s3 = await startS3rver({ directory: join(dir, 's3') });
    client = new Client({
      endPoint: '127.0.0.1',
      port: s3.port,
      useSSL: false,
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      region: 'us-east-1',
    });
  });

  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (bucket: string, key: string) => client.putObject(bucket, key, Buffer.from('x'), 1);

  it('a removed bucket is gone for the next request, and a re-created one is back', async () => {
    await client.makeBucket('comes-and-goes');
    await put('comes-and-goes', 'a.txt');
    await client.removeObject('comes-and-goes', 'a.txt');
    await client.removeBucket('comes-and-goes');
    await expect(put('comes-and-goes', 'b.txt')).rejects.toMatchObject({ code: 'NoSuchBucket' });
    expect(await client.bucketExists('comes-and-goes')).toBe(false);
    await client.makeBucket('comes-and-goes');
    await put('comes-and-goes', 'c.txt');
    expect((await client.statObject('comes-and-goes', 'c.txt')).size).toBe(1);
  });

  it("a bucket's CORS setting applies from the request after it is set, and after it is removed", async () => {
    await client.makeBucket('with-cors');
    const preflight = () =>
      fetch(`${s3.endpoint}/with-cors/some/object`, {
        method: 'OPTIONS',
        headers: { origin: 'http://console.example', 'access-control-request-method': 'PUT' },
      });
    // Read (and remembered) before the bucket has any CORS setting.
    expect((await preflight()).status).toBe(403);

    const corsUrl = (method: string) =>
      client.presignedUrl(method, 'with-cors', '', 60, { cors: '' });
    const set = await fetch(await corsUrl('PUT'), {
      method: 'PUT',
      body:
        '<CORSConfiguration><CORSRule><AllowedOrigin>http://console.example</AllowedOrigin>' +
        '<AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>',
    });
    expect(set.status).toBe(200);
    const allowed = await preflight();
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('PUT');

    const removed = await fetch(await corsUrl('DELETE'), { method: 'DELETE' });
    expect(removed.ok).toBe(true);
    expect((await preflight()).status).toBe(403);
  });
});
