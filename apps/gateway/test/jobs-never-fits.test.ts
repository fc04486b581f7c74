import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, submitJob } from '../../../test/support/jobs-api.js';

describe('POST /api/v1/jobs: jobs that can never run', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_never_fits');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;

  beforeAll(async () => {
    key = await register(h.url, 'bigjobs', { max_cpu: 100, max_memory_gi: 100 });
  });

  it.each([
    ['larger than the quota', { cpu: '200', memory: '1Gi' }, 'quota', /whole cpu quota is 100 CPU/],
    ['larger than any node', { cpu: '40', memory: '1Gi' }, 'node', /largest node .* has 16 CPU/],
  ])('answers a job %s with 422 and the reason', async (_name, resources, kind, message) => {
    const before = await h.prisma.job.count({ where: { tenantId: 'bigjobs' } });
    const response = await submitJob(h.url, key, sleeper({ resources }));
    expect(response.status).toBe(422);
    const problem = (await response.json()) as {
      type: string;
      reasons: { kind: string; message: string }[];
    };
    expect(problem.type).toBe('https://roam.dev/problems/unschedulable');
    expect(problem.reasons).toEqual(
      expect.arrayContaining([{ kind, message: expect.stringMatching(message) }]),
    );
    expect(await h.prisma.job.count({ where: { tenantId: 'bigjobs' } })).toBe(before);
  });

  it('accepts a job larger than any node when RunPod may take it, but never one over the quota', async () => {
    const offloadable = await submitJob(
      h.url,
      key,
      sleeper({ resources: { cpu: '40', memory: '1Gi' }, offload: 'allowed' }),
    );
    expect(offloadable.status).toBe(201);
    const overQuota = await submitJob(
      h.url,
      key,
      sleeper({ resources: { cpu: '200', memory: '1Gi' }, offload: 'required' }),
    );
    expect(overQuota.status).toBe(422);
  });

  it('accepts a job that fits a node and the quota', async () => {
    expect(
      (await submitJob(h.url, key, sleeper({ resources: { cpu: '16', memory: '1Gi' } }))).status,
    ).toBe(201);
  });
});
