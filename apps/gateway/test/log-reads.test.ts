import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uuidv7 } from '@roam/domain';
import { logKey, pvcObjectStore } from '@roam/object-store';

import { call, type Harness, startHarness } from '../../../test/support/harness.js';
import { readyTenant } from '../../../test/support/job-fixtures.js';

const LINES = 50_000;
const stamp = (i: number) => new Date(Date.UTC(2030, 0, 1) + i).toISOString();
const lineOf = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(40)}`;

describe('log reads without follow are bounded', () => {
  let h: Harness;
  let root: string;
  let key: string;
  let id: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'roam-log-reads-'));
    h = await startHarness('log_reads', {
      RESULTS_PVC_ROOT: root,
      LOGS_MAX_TAIL_LINES: '1000',
      LOGS_MAX_BYTES: String(64 * 1024),
    });
    key = await readyTenant(h, 'reader');
    id = uuidv7();
    await h.prisma.job.create({
      data: {
        id,
        tenantId: 'reader',
        name: 'archived',
        spec: { image: 'busybox', command: ['true'] },
        cpuMillis: 100,
        memoryBytes: BigInt(64 * 2 ** 20),
        status: 'succeeded',
        phase: 'Succeeded',
        attempt: 1,
      },
    });
    // An archived log of 50,000 lines (about 3 MB), as Kubernetes wrote it with timestamps.
    const text = Array.from({ length: LINES }, (_, i) => `${stamp(i)} ${lineOf(i)}\n`).join('');
    const body = Buffer.from(text);
    const storageKey = logKey('reader', id, 1);
    await pvcObjectStore(root).put(storageKey, body, body.length, 'text/plain');
    await h.prisma.logArchive.create({
      data: { jobId: id, attempt: 1, tenantId: 'reader', storageKey, size: BigInt(body.length) },
    });
  });

  afterAll(async () => {
    await h?.close();
    await rm(root, { recursive: true, force: true });
  });

  const get = (path: string) => call(h.url, 'GET', path, undefined, key);

  it('a tail of a large archived log answers exactly its last lines', async () => {
    const response = await get(`/api/v1/jobs/${id}/logs?tail=3`);
    expect(response.status).toBe(200);
    expect(response.headers.get('roam-log-source')).toBe('archive');
    expect(response.body).toBe(
      [LINES - 3, LINES - 2, LINES - 1].map((i) => `${lineOf(i)}\n`).join(''),
    );
    const most = await get(`/api/v1/jobs/${id}/logs?tail=1000`);
    const lines = (most.body as string).trimEnd().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines[0]).toBe(lineOf(LINES - 1000));
  });

  it('refuses a tail over LOGS_MAX_TAIL_LINES on every log route', async () => {
    for (const path of [
      `/api/v1/jobs/${id}/logs?tail=1001`,
      `/api/v1/jobs/${id}/logs?tail=1001&follow=true`,
      `/api/v1/jobs/${id}/logs/stream?tail=1001`,
    ]) {
      const refused = await get(path);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body.detail).toMatch(/tail: must be at most 1000/);
    }
  });

  it('cuts a whole read at LOGS_MAX_BYTES and says so in a last line', async () => {
    const response = await get(`/api/v1/jobs/${id}/logs`);
    expect(response.status).toBe(200);
    const text = response.body as string;
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(
      `[roam] log cut at ${64 * 1024} bytes (LOGS_MAX_BYTES); read the rest with tail or since`,
    );
    const kept = lines.slice(0, -1);
    expect(kept).toEqual(kept.map((_, i) => lineOf(i)));
    expect(Buffer.byteLength(kept.join('\n') + '\n')).toBeLessThanOrEqual(64 * 1024);
    expect(kept.length).toBeGreaterThan(1000);
  });
});
