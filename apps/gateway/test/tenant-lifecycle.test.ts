import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrismaClient } from '@roam/db';
import { generateApiKey, hashApiKey } from '@roam/domain';
import type { KubernetesObject } from '@roam/kube';
import { MinioObjectStore, type RunningS3rver, startS3rver } from '@roam/object-store';
import { eventually } from '@roam/testing';
import pino from 'pino';

import {
  ADMIN_TOKEN,
  call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';
import { ApiKeysRepository } from '../src/auth/api-keys.repository.js';
import { AuthService } from '../src/auth/auth.service.js';
import type { Revocation } from '../src/auth/revocations.js';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });

describe('tenant lifecycle under abuse', () => {
  let h: Harness;
  let s3: RunningS3rver;
  let s3dir: string;
  let store: MinioObjectStore;
  const bucket = `roam-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'roam-s3-'));
    s3 = await startS3rver({ directory: s3dir });
    h = await startHarness('tenant_lifecycle', {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
    });
    store = new MinioObjectStore({
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY: 'S3RVER',
      S3_SECRET_KEY: 'S3RVER',
      S3_PATH_STYLE: true,
    });
  });

  afterAll(async () => {
    await h?.close();
    await s3?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
  });

  const ready = (tenantId: string) =>
    eventually(
      `${tenantId} to be ready`,
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: tenantId } }))?.status === 'ready',
    );

  /** Rows in every tenant-owned table that name the tenant. */
  const leftovers = async (prisma: PrismaClient, tenantId: string) => ({
    jobs: await prisma.job.count({ where: { tenantId } }),
    history: await prisma.jobHistory.count({ where: { tenantId } }),
    results: await prisma.resultFile.count({ where: { tenantId } }),
    logs: await prisma.logArchive.count({ where: { tenantId } }),
    keys: await prisma.apiKey.count({ where: { tenantId } }),
    templates: await prisma.jobTemplate.count({ where: { tenantId } }),
    webhooks: await prisma.webhookEndpoint.count({ where: { tenantId } }),
    deliveries: await prisma.webhookDelivery.count({ where: { tenantId } }),
    events: await prisma.event.count({ where: { tenantId } }),
    idempotency: await prisma.idempotencyKey.count({ where: { principal: `tenant:${tenantId}` } }),
    offloads: await prisma.offload.count({ where: { tenantId } }),
  });

  describe('deletion', () => {
    it('removes everything the tenant owned; its id answers 409 until then, and a new owner inherits nothing', async () => {
      const tenant = 'heir-a';
      const key = await register(h.url, tenant);
      await ready(tenant);
      const webhook = await call(
        h.url,
        'POST',
        '/api/v1/webhooks',
        { url: 'http://127.0.0.1:9/hook', events: ['job.succeeded'] },
        key,
      );
      expect(webhook.status).toBe(201);
      const template = await fetch(`${h.url}/api/v1/templates`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': 'tmpl-1',
        },
        body: JSON.stringify({ name: 'mine', spec: { image: 'busybox', command: ['true'] } }),
      });
      expect(template.status).toBe(201);
      const job = await call(
        h.url,
        'POST',
        '/api/v1/jobs',
        { image: 'busybox', command: ['sleep', '100000'] },
        key,
      );
      expect(job.status).toBe(201);
      expect(
        (await call(h.url, 'DELETE', `/api/v1/jobs/${job.body.id}`, undefined, key)).body.status,
      ).toBe('cancelled');
      const jobId = job.body.id as string;
      // What other workers write for a tenant: a result file and its object, a log archive,
      // a webhook delivery, an offload.
      const resultKey = `tenants/${tenant}/jobs/${jobId}/results/out.txt`;
      await store.put(resultKey, Buffer.from('secret'), 6, 'text/plain');
      await store.put(
        `tenants/${tenant}/jobs/${jobId}/logs/attempt-1.log`,
        Buffer.from('l'),
        1,
        'text/plain',
      );
      await h.prisma.resultFile.create({
        data: {
          jobId,
          tenantId: tenant,
          path: 'out.txt',
          size: 6n,
          checksum: '0'.repeat(64),
          contentType: 'text/plain',
          storageKey: resultKey,
        },
      });
      await h.prisma.logArchive.create({
        data: { jobId, attempt: 1, tenantId: tenant, storageKey: 'x', size: 1n },
      });
      const event = await h.prisma.event.findFirstOrThrow({ where: { tenantId: tenant } });
      await h.prisma.webhookDelivery.create({
        data: {
          id: randomUUID(),
          endpointId: webhook.body.id,
          tenantId: tenant,
          eventId: event.id,
          eventType: event.type,
          payload: {},
        },
      });
      await h.prisma.offload.create({
        data: {
          id: randomUUID(),
          jobId,
          tenantId: tenant,
          kubeNamespace: `roam-${tenant}`,
          kubeJobName: `roam-${jobId}-1`,
          gpuType: 'A100',
          pricePerHourMicros: 1n,
          costMicros: 5n,
        },
      });
      const before = await leftovers(h.prisma, tenant);
      for (const [table, count] of Object.entries(before)) {
        expect([table, count > 0]).toEqual([table, true]);
      }

      // A finalizer of someone else's holds the namespace, so the deletion cannot finish yet.
      await h.kube.mergePatch(ns(`roam-${tenant}`), {
        metadata: { name: `roam-${tenant}`, finalizers: ['example.com/hold'] },
      });
      const accepted = await call(
        h.url,
        'DELETE',
        `/api/v1/tenants/${tenant}`,
        undefined,
        ADMIN_TOKEN,
      );
      expect(accepted.status).toBe(202);
      await eventually('the namespace to be terminating', async () => {
        const namespace = await h.kube.get(ns(`roam-${tenant}`));
        return namespace?.metadata?.deletionTimestamp !== undefined;
      });
      await eventually(
        'the rows and objects to be gone while the tombstone stays',
        async () =>
          (await store.list(`tenants/${tenant}/`)).items.length === 0 &&
          (await h.prisma.job.count({ where: { tenantId: tenant } })) === 0 &&
          (await h.prisma.event.count({ where: { tenantId: tenant } })) === 0,
      );
      expect((await h.prisma.tenant.findUniqueOrThrow({ where: { id: tenant } })).status).toBe(
        'deleting',
      );
      for (const path of ['/auth/register', '/api/v1/tenants']) {
        const early = await call(h.url, 'POST', path, { tenant_id: tenant }, ADMIN_TOKEN);
        expect(early.status).toBe(409);
        expect(early.body.detail).toContain('being deleted');
      }

      await h.kube.mergePatch(ns(`roam-${tenant}`), {
        metadata: { name: `roam-${tenant}`, finalizers: null },
      });
      await eventually(
        'the tenant row to be gone',
        async () => (await h.prisma.tenant.count({ where: { id: tenant } })) === 0,
      );
      expect(await leftovers(h.prisma, tenant)).toEqual(
        Object.fromEntries(Object.keys(before).map((table) => [table, 0])),
      );
      expect(await store.stat(resultKey)).toBeUndefined();

      const heir = await register(h.url, tenant);
      await ready(tenant);
      expect((await call(h.url, 'GET', '/api/v1/webhooks', undefined, heir)).body.items).toEqual(
        [],
      );
      expect((await call(h.url, 'GET', '/api/v1/jobs', undefined, heir)).body.items).toEqual([]);
      expect((await call(h.url, 'GET', '/api/v1/templates/mine', undefined, heir)).status).toBe(
        404,
      );
      const events = await call(h.url, 'GET', '/api/v1/events', undefined, heir);
      expect(events.status).toBe(200);
      // Only the new owner's own registration, nothing of the old owner's jobs or its deletion.
      const types = events.body.items.map((e: { type: string }) => e.type);
      expect(types).not.toContain('tenant.deleted');
      expect(types.filter((type: string) => type.startsWith('job.'))).toEqual([]);
      // The old owner's Idempotency-Key does not replay its response to the new owner.
      const replay = await fetch(`${h.url}/api/v1/templates`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${heir}`,
          'content-type': 'application/json',
          'idempotency-key': 'tmpl-1',
        },
        body: JSON.stringify({ name: 'fresh', spec: { image: 'busybox', command: ['true'] } }),
      });
      expect(replay.status).toBe(201);
      expect(((await replay.json()) as { name: string }).name).toBe('fresh');
      expect(
        (await h.prisma.tenant.findUniqueOrThrow({ where: { id: tenant } })).offloadSpendMicros,
      ).toBe(0n);
    });

    it('resumes a deletion a crash interrupted, from the converge pass alone', async () => {
      const tenant = 'resume-a';
      await register(h.url, tenant);
      await ready(tenant);
      // As if the delete command was lost after the gateway's commit.
      await h.prisma.tenant.update({ where: { id: tenant }, data: { status: 'deleting' } });
      await eventually(
        'the converge pass to finish the deletion',
        async () => (await h.prisma.tenant.count({ where: { id: tenant } })) === 0,
      );
      await eventually(
        'the namespace to be gone',
        async () => (await h.kube.get(ns(`roam-${tenant}`))) === undefined,
      );
    });
  });

  describe('namespaces', () => {
    it.each([
      ['nobody', { team: 'payments' }],
      ['another tenant', { 'app.kubernetes.io/managed-by': 'roam', 'roam.dev/tenant': 'other' }],
    ])(
      'a namespace owned by %s is never adopted: the tenant fails with a reason, the namespace is untouched, even by deletion',
      async (_, labels) => {
        const tenant = `squat-${Object.keys(labels).length}`;
        const name = `roam-${tenant}`;
        await h.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
        await h.kube.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'theirs', namespace: name },
          data: { a: '1' },
        });
        await register(h.url, tenant);
        const failed = await eventually('the tenant to fail', async () => {
          const view = await call(
            h.url,
            'GET',
            `/api/v1/tenants/${tenant}`,
            undefined,
            ADMIN_TOKEN,
          );
          return view.body.status === 'failed' && view.body;
        });
        expect(failed.status_reason).toContain(name);
        expect(failed.status_reason).toContain('not this tenant');
        const namespace = await h.kube.get<KubernetesObject>(ns(name));
        const { 'kubernetes.io/metadata.name': _own, ...kept } = namespace?.metadata?.labels ?? {};
        expect(kept).toEqual(labels);
        expect(
          await h.kube.get({
            apiVersion: 'v1',
            kind: 'ResourceQuota',
            name: 'roam-quota',
            namespace: name,
          }),
        ).toBeUndefined();
        expect(
          await h.kube.get({
            apiVersion: 'v1',
            kind: 'LimitRange',
            name: 'roam-limits',
            namespace: name,
          }),
        ).toBeUndefined();

        expect(
          (await call(h.url, 'DELETE', `/api/v1/tenants/${tenant}`, undefined, ADMIN_TOKEN)).status,
        ).toBe(202);
        await eventually(
          'the tenant to be gone',
          async () => (await h.prisma.tenant.count({ where: { id: tenant } })) === 0,
        );
        expect((await h.kube.get(ns(name)))?.metadata?.deletionTimestamp).toBeUndefined();
        expect(
          await h.kube.get({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'theirs',
            namespace: name,
          }),
        ).toBeDefined();
      },
    );
  });

  describe('open registration', () => {
    it('gives the operator defaults; a body may only lower them, and the response shows what was applied', async () => {
      const open = await h.gateway({
        OPEN_REGISTRATION_MAX_CPU: '3',
        OPEN_REGISTRATION_MAX_GPU: '0',
        OPEN_REGISTRATION_WEIGHT: '2',
        OPEN_REGISTRATION_RATE_LIMIT_PER_SECOND: '7',
      });
      const greedy = await call(open.url, 'POST', '/auth/register', {
        tenant_id: 'greedy',
        max_cpu: 999,
        max_memory_gi: 20,
        max_concurrent_jobs: 2,
        max_gpu: 8,
        weight: 1000,
        rate_limit_per_second: null,
        offload_budget_usd: null,
      });
      expect(greedy.status).toBe(201);
      expect(greedy.body).toMatchObject({
        max_cpu: 3,
        max_gpu: 0,
        weight: 2,
        rate_limit_per_second: 7,
        offload_budget_usd: 0,
      });
      expect(greedy.body.message).toContain('max_cpu, max_gpu, weight');
      const stored = await h.prisma.tenant.findUniqueOrThrow({ where: { id: 'greedy' } });
      expect(stored).toMatchObject({
        maxCpuMillis: 3000,
        maxGpu: 0,
        weight: 2,
        offloadBudgetMicros: 0n,
      });

      const modest = await call(open.url, 'POST', '/api/v1/tenants', {
        tenant_id: 'modest',
        max_cpu: 1.5,
        weight: 1,
      });
      expect(modest.status).toBe(201);
      expect(modest.body).toMatchObject({ max_cpu: 1.5, weight: 1, max_memory_gi: 20 });
    });

    it('gives admin-created tenants no RunPod budget unless one is named', async () => {
      const plain = await call(
        h.url,
        'POST',
        '/api/v1/tenants',
        { tenant_id: 'budget-0', max_gpu: 4 },
        ADMIN_TOKEN,
      );
      expect(plain.body).toMatchObject({ max_gpu: 4, offload_budget_usd: 0 });
      const unlimited = await call(
        h.url,
        'POST',
        '/api/v1/tenants',
        { tenant_id: 'budget-null', offload_budget_usd: null },
        ADMIN_TOKEN,
      );
      expect(unlimited.body.offload_budget_usd).toBeNull();
    });
  });

  describe('floods', () => {
    it('rate-limits requests without a key per client address; a spoofed X-Forwarded-For does not help', async () => {
      const strict = await h.gateway({
        ANONYMOUS_RATE_LIMIT_BURST: '2',
        ANONYMOUS_RATE_LIMIT_PER_SECOND: '0.01',
      });
      const key = await register(h.url, 'anon-probe');
      const statuses: number[] = [];
      for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
        const response = await fetch(`${strict.url}/health`, {
          headers: { 'x-forwarded-for': client },
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      const refused = await call(strict.url, 'POST', '/auth/register', { tenant_id: 'flood-1' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.body.type).toBe('https://roam.dev/problems/rate-limited');
      expect(await h.prisma.tenant.count({ where: { id: 'flood-1' } })).toBe(0);
      // A caller with a key has its own budget.
      expect((await call(strict.url, 'GET', '/api/v1/jobs', undefined, key)).status).toBe(200);
    });

    it('behind a trusted proxy, limits each forwarded client on its own', async () => {
      const proxied = await h.gateway({
        ANONYMOUS_RATE_LIMIT_BURST: '1',
        ANONYMOUS_RATE_LIMIT_PER_SECOND: '0.01',
        TRUSTED_PROXIES: '127.0.0.1,::1',
      });
      const get = (client: string) =>
        fetch(`${proxied.url}/health`, {
          headers: { 'x-forwarded-for': `198.51.100.7, ${client}` },
        });
      expect((await get('203.0.113.10')).status).toBe(200);
      expect((await get('203.0.113.10')).status).toBe(429);
      expect((await get('203.0.113.11')).status).toBe(200);
    });

    it('answers failed authentications 401 up to the limit, then 429 without a lookup; other clients are unaffected', async () => {
      const key = await register(h.url, 'auth-flood');
      const guarded = await h.gateway({
        AUTH_FAILURES_BURST: '3',
        AUTH_FAILURES_PER_MINUTE: '0.1',
        TRUSTED_PROXIES: '127.0.0.1,::1',
      });
      const as = (client: string, token: string) =>
        fetch(`${guarded.url}/api/v1/jobs`, {
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1)
        statuses.push((await as('203.0.113.66', generateApiKey().key)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const limited = await as('203.0.113.66', generateApiKey().key);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await as('203.0.113.67', key)).status).toBe(200);
      expect((await as('203.0.113.67', generateApiKey().key)).status).toBe(401);
    });

    it('remembers a missing key for a while, and a flood of misses evicts no valid key', async () => {
      const key = await register(h.url, 'cache-a');
      let lookups = 0;
      const counting = new Proxy(h.prisma, {
        get(target, property, receiver) {
          if (property !== 'apiKey') return Reflect.get(target, property, receiver);
          return new Proxy(target.apiKey, {
            get(model, method, r) {
              if (method !== 'findFirst') return Reflect.get(model, method, r);
              return (args: { where: { hash: string } }) => {
                lookups += 1;
                // The flood's made-up hashes are answered here: 10k queries would prove nothing more.
                if (args.where.hash.startsWith('miss-')) return Promise.resolve(null);
                return model.findFirst(args);
              };
            },
          });
        },
      });
      const keys = new ApiKeysRepository(counting, pino({ level: 'silent' }));
      try {
        expect(await keys.findActive(hashApiKey(key))).toMatchObject({ tenantId: 'cache-a' });
        const miss = hashApiKey(generateApiKey().key);
        expect(await keys.findActive(miss)).toBeUndefined();
        expect(await keys.findActive(miss)).toBeUndefined();
        expect(lookups).toBe(2);
        for (let i = 0; i < 10_050; i += 1) await keys.findActive(`miss-${i}`);
        const afterFlood = lookups;
        expect(keys.cacheSize.missing).toBeLessThanOrEqual(10_000);
        expect(await keys.findActive(hashApiKey(key))).toMatchObject({ tenantId: 'cache-a' });
        expect(lookups).toBe(afterFlood);
      } finally {
        await keys.onModuleDestroy();
      }
    });

    it.each([
      ['webhooks', 'MAX_WEBHOOKS_PER_TENANT', '/api/v1/webhooks'],
      ['templates', 'MAX_TEMPLATES_PER_TENANT', '/api/v1/templates'],
      ['keys', 'MAX_API_KEYS_PER_TENANT', '/api/v1/tenants/:tenant/keys'],
    ])('caps %s per tenant, also under concurrent creates', async (what, variable, route) => {
      const tenant = `cap-${what}`;
      const key = await register(h.url, tenant);
      const capped = await h.gateway({ [variable]: '3' });
      const path = route.replace(':tenant', tenant);
      const body = (i: number) =>
        what === 'webhooks'
          ? { url: `http://127.0.0.1:9/hook-${i}` }
          : what === 'templates'
            ? { name: `t-${i}`, spec: { image: 'busybox', command: ['true'] } }
            : { name: `k-${i}` };
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => call(capped.url, 'POST', path, body(i), key)),
      );
      const statuses = responses.map((r) => r.status).sort();
      // Keys: the tenant's first key counts, so two more fit.
      const created = what === 'keys' ? 2 : 3;
      expect(statuses).toEqual([
        ...Array<number>(created).fill(201),
        ...Array<number>(8 - created).fill(429),
      ]);
      const refusal = responses.find((r) => r.status === 429)!;
      expect(refusal.body.detail).toContain(variable);
      expect(refusal.headers.get('retry-after')).not.toBeNull();
      const count =
        what === 'webhooks'
          ? await h.prisma.webhookEndpoint.count({ where: { tenantId: tenant } })
          : what === 'templates'
            ? await h.prisma.jobTemplate.count({ where: { tenantId: tenant } })
            : await h.prisma.apiKey.count({ where: { tenantId: tenant, revokedAt: null } });
      expect(count).toBe(3);
    });
  });

  describe('revocation listeners', () => {
    it('hear of a revoked key and of a deleted tenant in this process', async () => {
      const gateway = await h.gateway({});
      const heard: Revocation[] = [];
      const stop = gateway.app.get(AuthService).onRevocation((r) => heard.push(r));
      const key = await register(gateway.url, 'listened');
      const extra = await call(
        gateway.url,
        'POST',
        '/api/v1/tenants/listened/keys',
        { name: 'ci' },
        key,
      );
      expect(
        (
          await call(
            gateway.url,
            'DELETE',
            `/api/v1/tenants/listened/keys/${extra.body.id}`,
            undefined,
            key,
          )
        ).status,
      ).toBe(204);
      expect(
        (await call(gateway.url, 'DELETE', '/api/v1/tenants/listened', undefined, ADMIN_TOKEN))
          .status,
      ).toBe(202);
      stop();
      expect(heard).toEqual([
        { kind: 'key', keyId: extra.body.id },
        { kind: 'tenant', tenantId: 'listened' },
      ]);
    });
  });
});
