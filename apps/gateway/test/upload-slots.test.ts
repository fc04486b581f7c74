import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';
import type { RoamApp } from '@roam/runtime';

import { type Harness, register, startHarness } from '../../../test/support/harness.js';
import { compatForm } from '../../storage/test/compat-flow.js';
import { SUMO_SCENARIO, zipOf } from '../../storage/test/zip-fixtures.js';
import { type UploadSlot, UploadSlots } from '../src/uploads/upload-slots.js';

const SPEC = JSON.stringify({ template: 'sumo', resources: { cpu: '1', memory: '1Gi' } });
const BOUNDARY = 'roam-held-upload';

/** An upload whose body the test sends in two halves: held open in between. */
interface HeldUpload {
  /** Sends the rest of the archive and ends the form. */
  finish(): Promise<{ status: number; body: string }>;
  /** Drops the connection mid-body, as a client that goes away. */
  abort(): void;
}

describe('concurrent uploads are bounded per tenant and per gateway replica', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let gateway: RoamApp<unknown>;
  let zip: Buffer;
  const keys: Record<'a' | 'b', string> = { a: '', b: '' };
  /** Resolved by the next claim or release the gateway makes. */
  let claimed: () => void = () => undefined;
  let released: () => void = () => undefined;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('upload_slots', {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: `roam-${randomBytes(4).toString('hex')}`,
    });
    gateway = await h.gateway({ UPLOADS_PER_TENANT: '2', UPLOADS_PER_REPLICA: '3' });
    // Observed, not replaced: the test learns when the gateway has taken or given back a slot.
    const slots = gateway.app.get(UploadSlots);
    const claim = slots.claim.bind(slots);
    slots.claim = (tenantId: string): UploadSlot => {
      const slot = claim(tenantId);
      claimed();
      return {
        release: () => {
          slot.release();
          released();
        },
      };
    };
    for (const name of ['a', 'b'] as const) {
      keys[name] = await register(h.url, `slots-${name}-${randomBytes(3).toString('hex')}`, {
        max_cpu: 8,
        max_memory_gi: 16,
      });
    }
    zip = await zipOf(SUMO_SCENARIO);
  });

  afterAll(async () => {
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  const nextClaim = () => new Promise<void>((resolve) => (claimed = resolve));
  const nextRelease = () => new Promise<void>((resolve) => (released = resolve));

  /** Opens `POST /api/v1/jobs` and sends the form up to half of the archive. */
  async function hold(key: string): Promise<HeldUpload> {
    const taken = nextClaim();
    const url = new URL('/api/v1/jobs', gateway.url);
    const request: ClientRequest = httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      request.once('error', reject);
    });
    const half = Math.floor(zip.length / 2);
    request.write(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="spec"\r\n\r\n${SPEC}\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="inputs"; filename="inputs.zip"\r\n` +
        'Content-Type: application/zip\r\n\r\n',
    );
    request.write(zip.subarray(0, half));
    await taken;
    return {
      async finish() {
        request.end(Buffer.concat([zip.subarray(half), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]));
        const answer = await response;
        let body = '';
        for await (const chunk of answer) body += String(chunk);
        return { status: answer.statusCode!, body };
      },
      abort() {
        response.catch(() => undefined);
        request.destroy();
      },
    };
  }

  const upload = (key: string) => {
    const form = new FormData();
    form.set('spec', SPEC);
    form.set('inputs', new Blob([zip]), 'inputs.zip');
    return fetch(`${gateway.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
  };

  it('refuses the (N+1)th upload of a tenant with 429, lets another tenant in, and gives slots back', async () => {
    const first = await hold(keys.a);
    const second = await hold(keys.a);

    const refused = await upload(keys.a);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/UPLOADS_PER_TENANT=2/);
    // The seed form with a scenario zip counts against the same slots.
    const seed = await fetch(`${gateway.url}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.a}` },
      body: compatForm(zip),
    });
    expect(seed.status).toBe(429);
    expect(seed.headers.get('retry-after')).toMatch(/^\d+$/);

    const other = await upload(keys.b);
    expect(other.status).toBe(201);

    // Tenant b takes the replica's last slot: now anyone is refused, b included.
    const third = await hold(keys.b);
    const full = await upload(keys.b);
    expect(full.status).toBe(429);
    expect(((await full.json()) as { detail: string }).detail).toMatch(/UPLOADS_PER_REPLICA=3/);

    // A finished upload gives its slot back before it is answered.
    const done = await first.finish();
    expect(done.status).toBe(201);
    expect((await upload(keys.a)).status).toBe(201);

    // So does one whose client goes away mid-body.
    const gone = nextRelease();
    second.abort();
    await gone;
    expect((await third.finish()).status).toBe(201);
    expect(gateway.app.get(UploadSlots).count()).toBe(0);
    const last = await hold(keys.a);
    const again = await hold(keys.a);
    expect((await last.finish()).status).toBe(201);
    expect((await again.finish()).status).toBe(201);
  });
});
