import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import {
  ADMIN_TOKEN,
  call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';

type Quota = KubernetesObject & { spec: { hard: Record<string, string> } };
type LimitRange = KubernetesObject & {
  spec: {
    limits: {
      defaultRequest: Record<string, string>;
      default: Record<string, string>;
      max: Record<string, string>;
    }[];
  };
};

const quotaOf = (h: Harness, tenant: string) =>
  h.kube.get<Quota>({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    name: 'roam-quota',
    namespace: `roam-${tenant}`,
  });

describe('tenants, keys and per-tenant namespaces', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('tenants');
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('registration (SUMO-K8 flow)', () => {
    it('returns an sk- key once, stores only its hash, and provisions namespace, quota and limits', async () => {
      const response = await call(
        h.url,
        'POST',
        '/auth/register',
        { tenant_id: 'city-a', max_cpu: 10, max_memory_gi: 20, max_concurrent_jobs: 2, max_gpu: 1 },
        ADMIN_TOKEN,
      );
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        tenant_id: 'city-a',
        namespace: 'roam-city-a',
        status: 'provisioning',
      });
      const key = response.body.api_key as string;
      expect(key).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
      const stored = await h.prisma.apiKey.findMany({ where: { tenantId: 'city-a' } });
      expect(stored).toHaveLength(1);
      expect(JSON.stringify(stored)).not.toContain(key.slice(3));

      const quota = await eventually('the tenant quota', () => quotaOf(h, 'city-a'));
      expect(quota.spec.hard).toEqual({
        'requests.cpu': '10',
        'requests.memory': '20Gi',
        'requests.nvidia.com/gpu': '1',
        'requests.ephemeral-storage': '40Gi',
        'limits.ephemeral-storage': '40Gi',
        pods: '10',
      });
      const limits = await h.kube.get<LimitRange>({
        apiVersion: 'v1',
        kind: 'LimitRange',
        name: 'roam-limits',
        namespace: 'roam-city-a',
      });
      // Node disk is bounded too: a container that sets nothing gets a default, none gets more than the max.
      // (Kube reads objects as the API server sends them: the item's field is `default`.)
      expect(limits?.spec.limits[0]).toMatchObject({
        defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '256Mi' },
        default: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '2Gi' },
        max: { 'ephemeral-storage': '10Gi' },
      });
      const ready = await eventually('the tenant to be ready', async () => {
        const tenant = await call(h.url, 'GET', '/auth/tenants/city-a', undefined, key);
        return tenant.body.status === 'ready' && tenant.body;
      });
      expect(ready).toMatchObject({
        max_cpu: 10,
        max_memory_gi: 20,
        max_concurrent_jobs: 2,
        max_gpu: 1,
      });
    });

    it('answers a second registration of the same id with 409', async () => {
      await register(h.url, 'dup-a');
      const again = await call(h.url, 'POST', '/auth/register', { tenant_id: 'dup-a' });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('https://roam.dev/problems/conflict');
    });

    it('two concurrent registrations: one 201, one 409, one namespace', async () => {
      const [a, b] = await Promise.all([
        call(h.url, 'POST', '/auth/register', { tenant_id: 'race' }),
        call(h.url, 'POST', '/api/v1/tenants', { tenant_id: 'race' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      expect(await h.prisma.tenant.count({ where: { id: 'race' } })).toBe(1);
      await eventually('the namespace', () =>
        h.kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'roam-race' }),
      );
      const namespaces = await h.kube.list('v1', 'Namespace', {
        fieldSelector: 'metadata.name=roam-race',
      });
      expect(namespaces.items).toHaveLength(1);
    });

    it.each([
      ['City_A', 'DNS-1123'],
      ['admin', 'reserved'],
      ['a'.repeat(59), 'at most 58'],
    ])('rejects tenant id %p with 400 naming tenant_id', async (tenantId, why) => {
      const response = await call(h.url, 'POST', '/auth/register', { tenant_id: tenantId });
      expect(response.status).toBe(400);
      expect(response.body.errors[0]).toMatchObject({ path: 'tenant_id' });
      expect(response.body.errors[0].message).toContain(why);
      expect(await h.prisma.tenant.count({ where: { id: tenantId } })).toBe(0);
    });

    it('admin-only registration: 401 without a key, 403 with a tenant key, 201 with an admin token', async () => {
      const tenantKey = await register(h.url, 'closed-probe');
      const closed = await h.gateway({ ROAM_REGISTRATION: 'admin' });
      const anonymous = await call(closed.url, 'POST', '/auth/register', { tenant_id: 'closed-a' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
      expect(
        (await call(closed.url, 'POST', '/auth/register', { tenant_id: 'closed-a' }, tenantKey))
          .status,
      ).toBe(403);
      expect(
        (await call(closed.url, 'POST', '/auth/register', { tenant_id: 'closed-a' }, ADMIN_TOKEN))
          .status,
      ).toBe(201);
    });
  });

  describe('authentication', () => {
    let key: string;

    beforeAll(async () => {
      key = await register(h.url, 'auth-a');
    });

    it('answers a missing key with 401 and a Bearer challenge', async () => {
      const response = await call(h.url, 'GET', '/api/v1/jobs');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="roam"');
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it.each([
      ['Basic dXNlcjpwYXNz'],
      ['Bearer'],
      ['Bearer sk-not-a-key'],
      [`Bearer sk-${'A'.repeat(43)}`],
    ])('answers Authorization %p with 401 invalid_token', async (authorization) => {
      const response = await fetch(`${h.url}/api/v1/jobs`, { headers: { authorization } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('invalid_token');
    });

    it('a revoked key gets 401; the tenant keeps its other keys', async () => {
      const extra = await call(h.url, 'POST', '/api/v1/tenants/auth-a/keys', { name: 'ci' }, key);
      expect(extra.status).toBe(201);
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, extra.body.api_key)).status).toBe(
        200,
      );
      const revoke = await call(
        h.url,
        'DELETE',
        `/api/v1/tenants/auth-a/keys/${extra.body.id}`,
        undefined,
        key,
      );
      expect(revoke.status).toBe(204);
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, extra.body.api_key)).status).toBe(
        401,
      );
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, key)).status).toBe(200);
      const listed = await call(h.url, 'GET', '/api/v1/tenants/auth-a/keys', undefined, key);
      expect(
        listed.body.items.map((k: { name: string; revoked_at: string | null }) => [
          k.name,
          k.revoked_at !== null,
        ]),
      ).toEqual([
        ['default', false],
        ['ci', true],
      ]);
    });

    it('regenerate-key (SUMO-K8) rotates: the old key gets 401, the new one works', async () => {
      const old = await register(h.url, 'rotate-a');
      const rotated = await call(h.url, 'POST', '/auth/regenerate-key', undefined, old);
      expect(rotated.status).toBe(200);
      expect(rotated.body.tenant_id).toBe('rotate-a');
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, old)).status).toBe(401);
      expect(
        (await call(h.url, 'GET', '/api/v1/jobs', undefined, rotated.body.api_key)).status,
      ).toBe(200);
    });

    it('tenant keys get 403 on admin routes; admin keys work there', async () => {
      expect((await call(h.url, 'GET', '/api/v1/tenants', undefined, key)).status).toBe(403);
      expect((await call(h.url, 'POST', '/api/v1/admin/keys', { name: 'x' }, key)).status).toBe(
        403,
      );
      expect(
        (await call(h.url, 'PATCH', '/auth/tenants/auth-a', { max_cpu: 99 }, key)).status,
      ).toBe(403);
      const adminKey = await call(
        h.url,
        'POST',
        '/api/v1/admin/keys',
        { name: 'ops' },
        ADMIN_TOKEN,
      );
      expect(adminKey.status).toBe(201);
      expect(adminKey.body.api_key).toMatch(/^sk-admin-/);
      const tenants = await call(h.url, 'GET', '/api/v1/tenants', undefined, adminKey.body.api_key);
      expect(tenants.status).toBe(200);
      expect(tenants.body.items.map((t: { tenant_id: string }) => t.tenant_id)).toContain('auth-a');
      // Admins act on tenants, not as one: tenant-only routes refuse them.
      expect(
        (await call(h.url, 'GET', '/api/v1/jobs', undefined, adminKey.body.api_key)).status,
      ).toBe(403);
    });
  });

  describe('isolation', () => {
    it("tenant B cannot see, list or cancel tenant A's jobs (404), and A's job is unchanged", async () => {
      const a = await register(h.url, 'iso-a');
      const b = await register(h.url, 'iso-b');
      const job = await call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', command: ['sleep', '100000'] },
        a,
      );
      expect(job.status).toBe(201);
      const id = job.body.id as string;

      expect((await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, b)).status).toBe(404);
      expect((await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, b)).status).toBe(404);
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, b)).body.items).toEqual([]);
      expect((await call(h.url, 'GET', '/api/v1/tenants/iso-a', undefined, b)).status).toBe(404);
      expect((await call(h.url, 'GET', '/auth/tenants/iso-a', undefined, b)).status).toBe(404);
      expect((await call(h.url, 'GET', '/api/v1/tenants/iso-a/keys', undefined, b)).status).toBe(
        404,
      );

      const mine = await call(h.url, 'GET', `/api/v1/jobs/${id}`, undefined, a);
      expect(mine.body).toMatchObject({ id, tenant_id: 'iso-a' });
      expect(['pending', 'running']).toContain(mine.body.status);
      expect(mine.body.cancelled_at ?? null).toBeNull();
      expect(await h.prisma.job.findUniqueOrThrow({ where: { id } })).toMatchObject({
        cancelRequestedAt: null,
      });
      expect(
        (await call(h.url, 'GET', '/api/v1/jobs', undefined, a)).body.items.map(
          (j: { id: string }) => j.id,
        ),
      ).toEqual([id]);
    });
  });

  describe('limits', () => {
    it('PATCH by an admin updates the quota in the namespace', async () => {
      await register(h.url, 'grow-a', { max_cpu: 2 });
      await eventually(
        'the first quota',
        async () => (await quotaOf(h, 'grow-a'))?.spec.hard['requests.cpu'] === '2',
      );
      const patched = await call(
        h.url,
        'PATCH',
        '/auth/tenants/grow-a',
        { max_cpu: 6.5, max_concurrent_jobs: 8 },
        ADMIN_TOKEN,
      );
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ max_cpu: 6.5, max_concurrent_jobs: 8 });
      const quota = await eventually('the new quota', async () => {
        const current = await quotaOf(h, 'grow-a');
        return current?.spec.hard['requests.cpu'] === '6500m' && current;
      });
      expect(quota.spec.hard.pods).toBe('16');
      const bad = await call(
        h.url,
        'PATCH',
        '/api/v1/tenants/grow-a',
        { max_cpu: -1, surprise: true },
        ADMIN_TOKEN,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        '(root)',
        'max_cpu',
      ]);
    });

    it('rate-limits a tenant with 429, Retry-After and RateLimit headers; other tenants are unaffected', async () => {
      const limited = await register(h.url, 'slow-a', { rate_limit_per_second: 0.01 });
      const other = await register(h.url, 'fast-a');
      const strict = await h.gateway({ RATE_LIMIT_BURST: '2' });
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 3; i += 1) {
        last = await call(strict.url, 'GET', '/api/v1/jobs', undefined, limited);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(last!.headers.get('ratelimit-limit')).toBe('2');
      expect(last!.headers.get('ratelimit-remaining')).toBe('0');
      expect(last!.body.type).toBe('https://roam.dev/problems/rate-limited');
      expect((await call(strict.url, 'GET', '/api/v1/jobs', undefined, other)).status).toBe(200);
    });
  });

  describe('deletion', () => {
    it('is refused with 409 while a job is pending; afterwards it removes the namespace and the tenant', async () => {
      const key = await register(h.url, 'gone-a');
      await eventually('the namespace', () =>
        h.kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'roam-gone-a' }),
      );
      const job = await call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', command: ['true'] },
        key,
      );
      expect((await call(h.url, 'DELETE', '/api/v1/tenants/gone-a', undefined, key)).status).toBe(
        403,
      );
      const refused = await call(h.url, 'DELETE', '/api/v1/tenants/gone-a', undefined, ADMIN_TOKEN);
      expect(refused.status).toBe(409);
      expect(refused.body.unfinished_jobs).toBe(1);
      expect(
        (await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'gone-a' } })).status,
      ).not.toBe('deleting');

      const cancelled = await call(h.url, 'DELETE', `/api/v1/jobs/${job.body.id}`, undefined, key);
      expect(cancelled.body.status).toBe('cancelled');
      const again = await call(h.url, 'DELETE', `/api/v1/jobs/${job.body.id}`, undefined, key);
      expect(again.body).toMatchObject({
        status: 'cancelled',
        completed_at: cancelled.body.completed_at,
      });

      const accepted = await call(
        h.url,
        'DELETE',
        '/api/v1/tenants/gone-a',
        undefined,
        ADMIN_TOKEN,
      );
      expect(accepted.status).toBe(202);
      expect(accepted.body.status).toBe('deleting');
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, key)).status).toBe(401);
      await eventually(
        'the tenant to be gone',
        async () => (await h.prisma.tenant.count({ where: { id: 'gone-a' } })) === 0,
      );
      await eventually(
        'the namespace to be gone',
        async () =>
          (await h.kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'roam-gone-a' })) ===
          undefined,
      );
      expect(
        (await call(h.url, 'GET', '/api/v1/tenants/gone-a', undefined, ADMIN_TOKEN)).status,
      ).toBe(404);
    });
  });
});
