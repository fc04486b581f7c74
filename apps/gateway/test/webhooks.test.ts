import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { keyringFrom, SecretBox } from '@roam/config';
import type { RoamApp } from '@roam/runtime';
import { webhookSecretContext } from '@roam/webhooks';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper, tenantReady } from '../../../test/support/jobs-api.js';

describe('/api/v1/webhooks', () => {
  let h: Harness;
  let open: RoamApp<unknown>;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    // The main gateway has no allow-list (production default); a second one allows 127.0.0.1.
    h = await startHarness('gateway_webhooks');
    open = await h.gateway({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32' });
    key = await register(h.url, 'hooks');
    otherKey = await register(h.url, 'others');
  });

  afterAll(async () => {
    await h?.close();
  });

  const create = (base: string, body: unknown, k = key) =>
    call(base, 'POST', '/api/v1/webhooks', body, k);

  it.each([
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.8/hook',
    'ftp://example.com/hook',
  ])('refuses %s without an allow-list', async (url) => {
    const response = await create(h.url, { url, events: ['job.succeeded'] });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('url');
    expect(await h.prisma.webhookEndpoint.count({ where: { url } })).toBe(0);
  });

  it('refuses unknown event types by name', async () => {
    const response = await create(open.url, {
      url: 'http://127.0.0.1:9/x',
      events: ['job.succeded'],
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('events.0');
  });

  it('creates, returns the secret once, lists, gets, updates, pauses, resumes and deletes', async () => {
    const created = await create(open.url, {
      url: 'http://127.0.0.1:9/hook',
      events: ['job.succeeded', subjects.job.failed],
      description: 'ci',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      events: ['job.succeeded', 'job.failed'],
      description: 'ci',
      status: 'active',
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32,}=*$/);
    const id = created.body.id as string;

    const got = await call(h.url, 'GET', `/api/v1/webhooks/${id}`, undefined, key);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(id);
    expect(JSON.stringify(got.body)).not.toContain(created.body.secret);
    const listed = await call(h.url, 'GET', '/api/v1/webhooks', undefined, key);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    const updated = await call(
      open.url,
      'PATCH',
      `/api/v1/webhooks/${id}`,
      { events: ['job.*'] },
      key,
    );
    expect(updated.body).toMatchObject({ events: ['job.*'], url: 'http://127.0.0.1:9/hook' });
    // The URL is checked on update too.
    const badUpdate = await call(
      h.url,
      'PATCH',
      `/api/v1/webhooks/${id}`,
      { url: 'http://127.0.0.1/x' },
      key,
    );
    expect(badUpdate.status).toBe(400);

    expect(
      (await call(h.url, 'POST', `/api/v1/webhooks/${id}/pause`, undefined, key)).body.status,
    ).toBe('paused');
    expect(
      (await call(h.url, 'POST', `/api/v1/webhooks/${id}/resume`, undefined, key)).body.status,
    ).toBe('active');

    const rotated = await call(
      h.url,
      'POST',
      `/api/v1/webhooks/${id}/rotate-secret`,
      { grace_hours: 2 },
      key,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const row = await h.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    // Stored sealed, with the key the gateway derives when none is configured.
    const box = new SecretBox(keyringFrom({ NODE_ENV: 'test', DATABASE_URL: h.env.DATABASE_URL! }));
    expect(row.previousSecret).not.toContain('whsec_');
    expect(box.open(row.previousSecret!, webhookSecretContext(id))).toBe(created.body.secret);
    expect(box.open(row.secret, webhookSecretContext(id))).toBe(rotated.body.secret);
    const graceMs = row.previousSecretExpiresAt!.getTime() - row.updatedAt.getTime();
    expect(Math.round(graceMs / 3600_000)).toBe(2);

    expect((await call(h.url, 'DELETE', `/api/v1/webhooks/${id}`, undefined, key)).status).toBe(
      204,
    );
    expect((await call(h.url, 'GET', `/api/v1/webhooks/${id}`, undefined, key)).status).toBe(404);
  });

  it("answers 404 for another tenant's webhook, and changes nothing", async () => {
    const created = await create(open.url, { url: 'http://127.0.0.1:9/mine', events: [] });
    const id = created.body.id as string;
    for (const [method, path, body] of [
      ['GET', `/api/v1/webhooks/${id}`, undefined],
      ['PATCH', `/api/v1/webhooks/${id}`, { description: 'stolen' }],
      ['POST', `/api/v1/webhooks/${id}/pause`, undefined],
      ['POST', `/api/v1/webhooks/${id}/rotate-secret`, {}],
      ['POST', `/api/v1/webhooks/${id}/test`, undefined],
      ['DELETE', `/api/v1/webhooks/${id}`, undefined],
    ] as const) {
      expect((await call(h.url, method, path, body, otherKey)).status).toBe(404);
    }
    const listed = await call(h.url, 'GET', '/api/v1/webhooks', undefined, otherKey);
    expect(listed.body.items).toEqual([]);
    const row = await h.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ description: '', status: 'active', previousSecret: null });
    const box = new SecretBox(keyringFrom({ NODE_ENV: 'test', DATABASE_URL: h.env.DATABASE_URL! }));
    expect(box.open(row.secret, webhookSecretContext(id))).toBe(created.body.secret);
  });

  it("lists the deliveries of one job's events across endpoints, and nothing of another tenant", async () => {
    await tenantReady(h.prisma, 'hooks');
    const hook = (await create(open.url, { url: 'http://127.0.0.1:9/jobs', events: [] })).body;
    const job = (await call(h.url, 'POST', '/api/v1/jobs', sleeper({ name: 'hooked' }), key)).body;
    // What the notifier's fan-out writes: one delivery per event and endpoint.
    const delivery = (subject: string, type: string) => {
      const id = crypto.randomUUID();
      return {
        id: crypto.randomUUID(),
        endpointId: hook.id as string,
        tenantId: 'hooks',
        eventId: id,
        eventType: type,
        payload: {
          specversion: '1.0',
          id,
          type,
          subject,
          source: 'roam',
          time: new Date().toISOString(),
          data: {},
        },
      };
    };
    await h.prisma.webhookDelivery.createMany({
      data: [
        delivery(`jobs/${job.id}`, 'roam.evt.v1.job.submitted'),
        delivery(`jobs/${job.id}`, 'roam.evt.v1.job.running'),
        delivery('jobs/01900000-0000-7000-8000-000000000000', 'roam.evt.v1.job.submitted'),
      ],
    });

    const listed = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/deliveries`, undefined, key);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.items[0]).toMatchObject({ endpoint_id: hook.id, status: 'pending' });
    expect(listed.body.items.map((item: { event_type: string }) => item.event_type).sort()).toEqual(
      ['roam.evt.v1.job.running', 'roam.evt.v1.job.submitted'],
    );
    const one = await call(
      h.url,
      'GET',
      `/api/v1/jobs/${job.id}/deliveries?limit=1`,
      undefined,
      key,
    );
    expect(one.body.items).toHaveLength(1);

    expect(
      (await call(h.url, 'GET', `/api/v1/jobs/${job.id}/deliveries`, undefined, otherKey)).status,
    ).toBe(404);
    expect((await call(h.url, 'GET', '/api/v1/jobs/nope/deliveries', undefined, key)).status).toBe(
      400,
    );
    expect(
      (await call(h.url, 'GET', `/api/v1/jobs/${job.id}/deliveries?limit=201`, undefined, key))
        .status,
    ).toBe(400);
  });
});
