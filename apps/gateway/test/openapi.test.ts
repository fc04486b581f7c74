import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RoamApp } from '@roam/runtime';
import type { z } from 'zod';

import {
  issuedKeySchema,
  keyListSchema,
  registeredTenantSchema,
  compatHealthSchema,
  tenantViewSchema,
} from '../src/openapi/common.schemas.js';
import { eventPageSchema } from '../src/events/events.service.js';
import { explainViewSchema } from '../src/jobs/job-explain.view.js';
import {
  jobEventsSchema,
  jobPageSchema,
  jobStatusViewSchema,
  jobViewSchema,
} from '../src/jobs/job.view.js';
import { batchResultSchema } from '../src/jobs/jobs-batch.service.js';
import { openApiPath } from '../src/openapi/openapi.document.js';
import { compatJobAcceptedSchema } from '../src/compat/jobs-form.controller.js';
import { templateListSchema, templateViewSchema } from '../src/templates/template.view.js';
import {
  deliveryPageSchema,
  deliveryViewSchema,
  webhookListSchema,
  webhookTestSchema,
  webhookWithSecretSchema,
} from '../src/webhooks/webhook.view.js';
import { ADMIN_TOKEN, call, type Harness, startHarness } from '../../../test/support/harness.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Every route Express knows, read from the router itself (not from Nest's metadata). */
function expressRoutes(app: RoamApp<unknown>): string[] {
  const express = app.app.getHttpAdapter().getInstance() as {
    router: { stack: ExpressLayer[] };
  };
  const routes: string[] = [];
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') routes.push(`${method} ${openApiPath(path).path}`);
      }
    }
  }
  return routes.sort();
}

/** Resolves a local JSON pointer (`#/components/schemas/Job`) in `doc`. */
function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, out);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push(value);
      else collectRefs(value, out);
    }
  }
  return out;
}

describe('OpenAPI document and docs page', () => {
  let h: Harness;
  let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  let routes: string[];
  /** A second gateway whose webhook destinations may be 127.0.0.1. */
  let open: RoamApp<unknown>;

  beforeAll(async () => {
    h = await startHarness('openapi');
    const response = await call(h.url, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    doc = response.body;
    open = await h.gateway({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32' });
    routes = expressRoutes(open);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('documents every route the gateway serves, and nothing it does not', () => {
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((key) => METHODS.includes(key))
          .map((method) => `${method} ${path}`),
      )
      .sort();
    expect(routes.length).toBeGreaterThan(20);
    // Both lists name SUMO-K8 and roam routes the suites exercise.
    expect(routes).toEqual(
      expect.arrayContaining([
        'get /api/v1/jobs/{id}/logs',
        'get /jobs/{job_id}/logs/stream',
        'get /admin/cluster',
        'get /health/ready',
        'post /auth/register',
      ]),
    );
    expect(routes.filter((route) => !documented.includes(route))).toEqual([]);
    expect(documented.filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('is structurally valid OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    const declaredTags = new Set(doc.tags.map((tag: { name: string }) => tag.name));
    const operationIds = new Set<string>();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      expect(path.startsWith('/')).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect([where, METHODS.includes(method)]).toEqual([where, true]);
        expect([where, typeof op.operationId]).toEqual([where, 'string']);
        expect([where, operationIds.has(op.operationId)]).toEqual([where, false]);
        operationIds.add(op.operationId);
        const statuses = Object.keys(op.responses);
        expect([where, statuses.some((s) => /^2\d\d$/.test(s))]).toEqual([where, true]);
        for (const status of statuses) {
          expect([where, /^([1-5]\d\d|default)$/.test(status)]).toEqual([where, true]);
          expect([where, typeof op.responses[status].description]).toEqual([where, 'string']);
        }
        const pathParams = (op.parameters ?? [])
          .filter((p: { in: string }) => p.in === 'path')
          .map((p: { name: string; required: boolean }) => {
            expect([where, p.name, p.required]).toEqual([where, p.name, true]);
            return p.name;
          })
          .sort();
        expect([where, pathParams]).toEqual([where, templated]);
        for (const p of op.parameters ?? []) {
          expect([where, ['path', 'query', 'header', 'cookie'].includes(p.in)]).toEqual([
            where,
            true,
          ]);
          expect([where, typeof p.schema]).toEqual([where, 'object']);
        }
        for (const tag of op.tags)
          expect([where, tag, declaredTags.has(tag)]).toEqual([where, tag, true]);
        for (const requirement of op.security) {
          for (const scheme of Object.keys(requirement)) {
            expect([where, scheme in doc.components.securitySchemes]).toEqual([where, true]);
          }
        }
      }
    }
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => resolvePointer(doc, ref) === undefined)).toEqual([]);
  });

  it('documents the optional Idempotency-Key header on every POST and on nothing else', () => {
    type Param = { name: string; in: string; required: boolean };
    for (const [path, item] of Object.entries(
      doc.paths as Record<string, Record<string, unknown>>,
    )) {
      for (const [method, op] of Object.entries(item)) {
        const header = ((op as { parameters?: Param[] }).parameters ?? []).find(
          (p) => p.name === 'Idempotency-Key',
        );
        const where = `${method.toUpperCase()} ${path}`;
        expect([where, header && { in: header.in, required: header.required }]).toEqual([
          where,
          method === 'post' ? { in: 'header', required: false } : undefined,
        ]);
      }
    }
  });

  it('describes auth, inputs and problem+json errors from the routes themselves', () => {
    const submitLogs = doc.paths['/api/v1/jobs/{id}/logs'].get;
    expect(submitLogs.security).toEqual([{ bearerAuth: [] }]);
    expect(submitLogs['x-roam-auth']).toBe('tenant');
    expect(submitLogs.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'attempt',
      'follow',
      'id',
      'replica',
      'since',
      'tail',
      'timestamps',
    ]);
    expect(Object.keys(submitLogs.responses['200'].content)).toEqual(['text/plain']);
    for (const status of ['400', '401', '403', '404', '409', '429']) {
      expect(submitLogs.responses[status].content['application/problem+json'].schema).toEqual({
        $ref: '#/components/schemas/Problem',
      });
    }
    const register = doc.paths['/auth/register'].post;
    expect(register.security).toEqual([]);
    expect(register.requestBody.required).toBe(true);
    expect(register.requestBody.content['application/json'].schema.properties.tenant_id).toEqual(
      expect.objectContaining({ type: 'string' }),
    );
    // A body with a default (createKeySchema) is optional.
    expect(doc.paths['/api/v1/admin/keys'].post.requestBody.required).toBe(false);
    expect(doc.paths['/admin/cluster'].get['x-roam-auth']).toBe('admin');
    expect(Object.keys(doc.paths['/admin/jobs'].get.responses).sort()).toEqual(
      ['200', '400', '401', '403', '429', 'default'].sort(),
    );
    expect(doc.paths['/health/live'].get.security).toEqual([]);
  });

  it('documented response schemas match what the routes answer', async () => {
    const registered = await call(h.url, 'POST', '/auth/register', { tenant_id: 'doc-a' });
    expect(registeredTenantSchema.safeParse(registered.body).error).toBeUndefined();
    const key = registered.body.api_key as string;
    const me = await call(h.url, 'GET', '/api/v1/tenants/me', undefined, key);
    expect(tenantViewSchema.safeParse(me.body).error).toBeUndefined();
    const issued = await call(h.url, 'POST', '/api/v1/tenants/doc-a/keys', { name: 'ci' }, key);
    expect(issuedKeySchema.safeParse(issued.body).error).toBeUndefined();
    const keys = await call(h.url, 'GET', '/api/v1/tenants/doc-a/keys', undefined, key);
    expect(keyListSchema.safeParse(keys.body).error).toBeUndefined();
    const job = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      { image: 'busybox', command: ['true'] },
      key,
    );
    expect(job.status).toBe(201);
    expect(jobViewSchema.safeParse(job.body).error).toBeUndefined();
    const health = await call(h.url, 'GET', '/health');
    expect(compatHealthSchema.safeParse(health.body).error).toBeUndefined();
    const adminKeys = await call(h.url, 'GET', '/api/v1/admin/keys', undefined, ADMIN_TOKEN);
    expect(keyListSchema.safeParse(adminKeys.body).error).toBeUndefined();
  });

  it('documents job submits, forms and streams as the routes read and write them', () => {
    const submit = doc.paths['/api/v1/jobs'].post;
    const variants = submit.requestBody.content['application/json'].schema.anyOf;
    expect(variants).toEqual(
      expect.arrayContaining([
        { $ref: '#/components/schemas/JobSpecInput' },
        { $ref: '#/components/schemas/TemplateSubmit' },
      ]),
    );
    expect(doc.components.schemas.Job.properties.spec).toEqual({
      $ref: '#/components/schemas/JobSpec',
    });
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
    const form = doc.paths['/jobs'].post.requestBody;
    expect(Object.keys(form.content).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]);
    expect(form.content['multipart/form-data'].schema.properties.sumo_files).toEqual(
      expect.objectContaining({ type: 'string', format: 'binary' }),
    );
    expect(Object.keys(doc.paths['/api/v1/events/stream'].get.responses['200'].content)).toEqual([
      'text/event-stream',
    ]);
    // The streams' messages are named schemas, so generated clients get a type for each.
    expect(
      doc.paths['/api/v1/events/stream'].get.responses['200'].content['text/event-stream'].schema,
    ).toEqual({ $ref: '#/components/schemas/EventStreamMessage' });
    expect(
      doc.paths['/api/v1/jobs/{id}/logs/stream'].get.responses['200'].content['text/event-stream']
        .schema,
    ).toEqual({ $ref: '#/components/schemas/LogStreamMessage' });
    expect(doc.components.schemas.EventStreamEvent.properties.data).toEqual({
      $ref: '#/components/schemas/EventEnvelope',
    });
    expect(doc.components.schemas.Event.properties.event).toEqual({
      $ref: '#/components/schemas/EventEnvelope',
    });
    expect(
      doc.paths['/api/v1/jobs:batch'].post.requestBody.content['application/json'].schema,
    ).toEqual(expect.objectContaining({ required: ['jobs'] }));
    const redeliver = doc.paths['/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver'].post;
    expect(redeliver.parameters.map((p: { name: string }) => p.name)).toEqual([
      'id',
      'deliveryId',
      'Idempotency-Key',
    ]);
    expect(redeliver.parameters[1].schema).toEqual(expect.objectContaining({ format: 'uuid' }));
  });

  it('documented jobs, templates, events and webhooks schemas match what the routes answer', async () => {
    const key = (await call(h.url, 'POST', '/auth/register', { tenant_id: 'doc-b' })).body
      .api_key as string;
    const get = (path: string) => call(h.url, 'GET', path, undefined, key);
    const expectFits = (schema: z.ZodType, response: { status: number; body: unknown }) => {
      expect([response.status, schema.safeParse(response.body).error]).toEqual([
        response.status,
        undefined,
      ]);
    };

    const job = await call(h.url, 'POST', '/api/v1/jobs', { template: 'sumo' }, key);
    expect(job.status).toBe(201);
    expectFits(jobViewSchema, job);
    const id = job.body.id as string;
    expectFits(jobPageSchema, await get('/api/v1/jobs?status=pending,running'));
    expectFits(jobStatusViewSchema, await get(`/api/v1/jobs/${id}/status`));
    expectFits(jobEventsSchema, await get(`/api/v1/jobs/${id}/events`));
    expectFits(explainViewSchema, await get(`/api/v1/jobs/${id}/explain`));
    const batch = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: [{ image: 'busybox', command: ['true'] }] },
      key,
    );
    expect(batch.status).toBe(201);
    expectFits(batchResultSchema, batch);
    expectFits(jobViewSchema, await call(h.url, 'DELETE', `/api/v1/jobs/${id}`, undefined, key));

    const form = new FormData();
    form.set('scenario_id', 'doc');
    form.set('cpu_request', '1');
    const compat = await fetch(`${h.url}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expectFits(compatJobAcceptedSchema, { status: compat.status, body: await compat.json() });

    const template = await call(
      h.url,
      'POST',
      '/api/v1/templates',
      { name: 'doc', spec: { image: 'busybox', command: ['true'] } },
      key,
    );
    expect(template.status).toBe(201);
    expectFits(templateViewSchema, template);
    expectFits(templateListSchema, await get('/api/v1/templates'));
    const events = await get('/api/v1/events?type=job.*');
    expectFits(eventPageSchema, events);
    expect(events.body.items.length).toBeGreaterThan(0);

    const hook = await call(
      open.url,
      'POST',
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook' },
      key,
    );
    expect(hook.status).toBe(201);
    expectFits(webhookWithSecretSchema, hook);
    const hookId = hook.body.id as string;
    expectFits(webhookListSchema, await get('/api/v1/webhooks'));
    const test = await call(h.url, 'POST', `/api/v1/webhooks/${hookId}/test`, undefined, key);
    expectFits(webhookTestSchema, test);
    const deliveries = await get(`/api/v1/webhooks/${hookId}/deliveries`);
    expectFits(deliveryPageSchema, deliveries);
    expect(deliveries.body.items.length).toBeGreaterThan(0);
    expectFits(
      deliveryViewSchema,
      await call(
        h.url,
        'POST',
        `/api/v1/webhooks/${hookId}/deliveries/${test.body.delivery_id as string}/redeliver`,
        undefined,
        key,
      ),
    );
  });

  it('serves Swagger UI from the package, without a CDN', async () => {
    const page = await fetch(`${h.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThanOrEqual(4);
    expect(sources.filter((src) => !src.startsWith('/docs/assets/'))).toEqual([]);
    for (const src of sources) {
      const asset = await fetch(`${h.url}${src}`);
      expect([src, asset.status]).toEqual([src, 200]);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const bundle = await (await fetch(`${h.url}/docs/assets/swagger-ui-bundle.js`)).text();
    expect(bundle).toContain('SwaggerUIBundle');
    const init = await (await fetch(`${h.url}/docs/assets/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect((await fetch(`${h.url}/docs/assets/package.json`)).status).toBe(404);
    expect((await fetch(`${h.url}/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });
});
