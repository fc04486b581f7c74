import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { createJob, sleeper, tenantReady } from '../../../test/support/jobs-api.js';

describe('GET /api/v1/jobs/:id/status, /events and /explain', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_status');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;

  beforeAll(async () => {
    key = await register(h.url, 'explainer', { max_concurrent_jobs: 1 });
    await tenantReady(h.prisma, 'explainer');
  });

  it('answers a compact status and the history in order', async () => {
    const job = await createJob(h.url, key, sleeper({ name: 'to-cancel' }));
    const status = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/status`, undefined, key);
    expect(status.status).toBe(200);
    // The scheduler may already be admitting it: the state is pending either way.
    expect(status.body).toMatchObject({ id: job.id, status: 'pending', attempt: 1 });
    expect(Object.keys(status.body).sort()).toEqual([
      'attempt',
      'completed_at',
      'created_at',
      'exit_code',
      'id',
      'message',
      'phase',
      'placement',
      'reason',
      'started_at',
      'status',
    ]);

    await call(h.url, 'DELETE', `/api/v1/jobs/${job.id}`, undefined, key);
    const events = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/events`, undefined, key);
    expect(events.status).toBe(200);
    expect(events.body.job_id).toBe(job.id);
    const items = events.body.items as { seq: number; status: string; phase: string }[];
    // Between these two the scheduler may have recorded an admission; the order is fixed.
    expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
    expect([items[0]?.status, items[0]?.phase]).toEqual(['pending', 'Submitted']);
    expect([items.at(-1)?.status, items.at(-1)?.phase]).toEqual(['cancelled', 'Cancelled']);

    const explained = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/explain`, undefined, key);
    expect(explained.body).toMatchObject({ pending: false, status: 'cancelled' });
    expect(explained.body.summary).toMatch(/not waiting for admission: it is cancelled/);
  });

  it("names the tenant's concurrency limit as what keeps a job waiting", async () => {
    // With a limit of 1, the older job takes the one slot (admitted now or in the next
    // cycle), so the younger one waits for it either way.
    const first = await createJob(h.url, key, sleeper({ name: 'first' }));
    const second = await createJob(h.url, key, sleeper({ name: 'second' }));
    expect(first.id < second.id).toBe(true);
    const explained = await call(h.url, 'GET', `/api/v1/jobs/${second.id}/explain`, undefined, key);
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({
      job_id: second.id,
      pending: true,
      admitted: false,
      reason: 'ConcurrencyLimit',
      blocker: { kind: 'concurrency', limit: 1 },
    });
    expect(explained.body.summary).toMatch(/1 of 1 jobs/);
    expect(explained.body.unblock).toEqual(
      expect.arrayContaining([expect.stringMatching(/raise tenant explainer's concurrency limit/)]),
    );
  });

  it("answers another tenant's job with 404 on every sub-resource", async () => {
    const job = await createJob(h.url, key, sleeper());
    const other = await register(h.url, 'snooper');
    for (const sub of ['status', 'events', 'explain']) {
      const response = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/${sub}`, undefined, other);
      expect(response.status).toBe(404);
    }
  });
});
