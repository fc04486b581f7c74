import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningS3rver, startS3rver } from '@roam/object-store';

import { type Harness, register, startHarness } from '../../../test/support/harness.js';
import { compatForm } from '../../storage/test/compat-flow.js';
import { SUMO_SCENARIO, zipOf } from '../../storage/test/zip-fixtures.js';

/** Two archives of the same name and size whose bytes differ. */
const archives = async () => {
  const a = await zipOf({ ...SUMO_SCENARIO, 'scenario/seed.txt': 'aaaa' });
  const b = await zipOf({ ...SUMO_SCENARIO, 'scenario/seed.txt': 'bbbb' });
  expect(a.length).toBe(b.length);
  return [a, b] as const;
};

describe('Idempotency-Key on uploads hashes the uploaded bytes', () => {
  let s3: RunningS3rver;
  let s3dir: string;
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('upload_idem', {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: `roam-${randomBytes(4).toString('hex')}`,
    });
    key = await register(h.url, `idem-${randomBytes(3).toString('hex')}`, {
      max_cpu: 4,
      max_memory_gi: 8,
    });
  });

  afterAll(async () => {
    await h?.close();
    await s3?.close();
    await rm(s3dir, { recursive: true, force: true });
  });

  const post = (path: string, form: FormData, idempotencyKey: string) =>
    fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey },
      body: form,
    });

  const apiForm = (zip: Buffer) => {
    const form = new FormData();
    form.set('spec', JSON.stringify({ template: 'sumo', resources: { cpu: '1', memory: '1Gi' } }));
    form.set('inputs', new Blob([zip]), 'inputs.zip');
    return form;
  };

  it('POST /api/v1/jobs: replays the same upload, refuses a different one under the key', async () => {
    const [a, b] = await archives();
    const first = await post('/api/v1/jobs', apiForm(a), 'api-1');
    expect(first.status).toBe(201);
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    const { id } = (await first.json()) as { id: string };

    const other = await post('/api/v1/jobs', apiForm(b), 'api-1');
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await other.json()) as { type: string }).type).toBe(
      'https://roam.dev/problems/idempotency-key-reused',
    );

    const again = await post('/api/v1/jobs', apiForm(a), 'api-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(id);
  });

  it('POST /jobs (seed form): refuses a different archive under a used key', async () => {
    const [a, b] = await archives();
    const first = await post('/jobs', compatForm(a), 'seed-1');
    expect(first.status).toBe(200);
    const other = await post('/jobs', compatForm(b), 'seed-1');
    expect(other.status).toBe(422);
    const again = await post('/jobs', compatForm(a), 'seed-1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
  });
});
