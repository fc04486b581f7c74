import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

const sleeper = (name: string) => ({
  name,
  image: 'busybox',
  command: ['sh', '-c', 'sleep 1000000'],
  resources: { cpu: '100m', memory: '64Mi' },
});

describe('/explain shares one decision and shows only the caller’s jobs', () => {
  let h: Harness;
  const keys: Record<string, string> = {};
  const jobs: Record<string, { running: string; waiting: string }> = {};

  const submit = async (tenant: string, name: string): Promise<string> => {
    const created = await call(h.url, 'POST', '/api/v1/jobs', sleeper(name), keys[tenant]);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const explain = (tenant: string, id: string) =>
    call(h.url, 'GET', `/api/v1/jobs/${id}/explain`, undefined, keys[tenant]);

  beforeAll(async () => {
    h = await startHarness('explain_isolation', { EXPLAIN_CACHE_MS: '60000' });
    for (const tenant of ['exp-alpha', 'exp-bravo']) {
      keys[tenant] = await register(h.url, tenant, { max_concurrent_jobs: 1 });
      await eventually(
        `tenant ${tenant} ready`,
        async () =>
          (await h.prisma.tenant.findUnique({ where: { id: tenant } }))?.status === 'ready',
      );
      const running = await submit(tenant, `${tenant}-secret-running`);
      await eventually(
        `${tenant}'s first job admitted`,
        async () => (await h.prisma.job.findUnique({ where: { id: running } }))?.admittedAt != null,
      );
      jobs[tenant] = { running, waiting: await submit(tenant, `${tenant}-secret-waiting`) };
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  it('answers every caller from the same decision, without another tenant’s ids or names', async () => {
    const alpha = await explain('exp-alpha', jobs['exp-alpha']!.waiting);
    const bravo = await explain('exp-bravo', jobs['exp-bravo']!.waiting);
    for (const answer of [alpha, bravo]) {
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ pending: true, reason: 'ConcurrencyLimit' });
    }
    expect(alpha.body.decided_at).toEqual(expect.any(String));
    expect(bravo.body.decided_at).toBe(alpha.body.decided_at);
    const text = JSON.stringify(alpha.body);
    for (const secret of [jobs['exp-bravo']!.running, jobs['exp-bravo']!.waiting, 'exp-bravo'])
      expect(text).not.toContain(secret);
  });

  it('a job queued after the shared decision is explained from a newer one', async () => {
    const before = await explain('exp-alpha', jobs['exp-alpha']!.waiting);
    const late = await submit('exp-alpha', 'exp-alpha-late');
    const answer = await explain('exp-alpha', late);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ pending: true, reason: 'ConcurrencyLimit' });
    expect(answer.body.position).toMatchObject({ tenant: 2, tenantWaiting: 2 });
    expect(Date.parse(answer.body.decided_at)).toBeGreaterThan(Date.parse(before.body.decided_at));
  });
});
