import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper } from '../../../test/support/jobs-api.js';

describe('POST /api/v1/jobs:batch', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_batch');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;

  beforeAll(async () => {
    key = await register(h.url, 'batcher');
  });

  it('creates 1000 jobs with their history and commands, and the scheduler takes them up', async () => {
    const jobs = Array.from({ length: 1000 }, (_, i) =>
      sleeper({ labels: { index: String(i) }, priority: i % 3 }),
    );
    const response = await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs }, key);
    expect(response.status).toBe(201);
    expect(response.body.count).toBe(1000);
    const ids = (response.body.items as { id: string; status: string }[]).map((item) => item.id);
    expect(new Set(ids).size).toBe(1000);
    expect(response.body.items[0].status).toBe('pending');
    expect(await h.prisma.job.count({ where: { tenantId: 'batcher' } })).toBe(1000);
    expect(await h.prisma.jobHistory.count({ where: { tenantId: 'batcher', seq: 1 } })).toBe(1000);
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: ids[7]! } });
    expect(row).toMatchObject({ priority: 1, cpuMillis: 100, labels: { index: '7' } });
    // One command for the batch, one submitted event per job.
    const commands = await h.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM outbox_messages
      WHERE subject = 'roam.cmd.v1.job.submitBatch' AND envelope->'data'->'jobIds' ? ${ids[7]!}`;
    expect(Number(commands[0]!.n)).toBe(1);
    expect(
      await h.prisma.event.count({
        where: { type: 'roam.evt.v1.job.submitted', tenantId: 'batcher' },
      }),
    ).toBe(1000);
    // The command wakes admission, which decides over the batch's jobs.
    await eventually(
      'the scheduler to take the batch up',
      async () =>
        (await h.prisma.job.count({
          where: { tenantId: 'batcher', phase: { in: ['Admitted', 'Queued'] } },
        })) > 0,
      { timeoutMs: 30_000 },
    );
  });

  it('rejects the whole batch when one item is bad, naming every bad index', async () => {
    const before = await h.prisma.job.count({ where: { tenantId: 'batcher' } });
    const response = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      {
        jobs: [sleeper(), { image: 'x' }, sleeper(), sleeper({ resources: { cpu: 'lots' } })],
      },
      key,
    );
    expect(response.status).toBe(400);
    expect((response.body.items as { index: number }[]).map((item) => item.index)).toEqual([1, 3]);
    expect(response.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'jobs.1.command' }),
        expect.objectContaining({ path: 'jobs.3.resources.cpu' }),
      ]),
    );
    expect(await h.prisma.job.count({ where: { tenantId: 'batcher' } })).toBe(before);
  });

  it('rejects an empty batch and one over 1000', async () => {
    expect((await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs: [] }, key)).status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, () => ({ image: 'x', command: ['x'] }));
    expect((await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs: tooMany }, key)).status).toBe(
      400,
    );
  });
});
