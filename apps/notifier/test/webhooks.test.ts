import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';
import { verifyWebhook } from '@roam/webhooks';

import { EventsHandler } from '../src/fanout/events.handler.js';
import { HistoryRetention } from '../src/retention/history-retention.js';
import { call, register, startWorld, type World } from './world.js';

describe('notifier: job events to signed webhooks', () => {
  let w: World;
  let key: string;

  beforeAll(async () => {
    w = await startWorld('notifier_webhooks');
    key = await register(w.h.url, 'hooked');
  });

  afterAll(async () => {
    await w?.close();
  });

  it('delivers a job.succeeded event once, signed, to the subscribed endpoint only', async () => {
    const subscribed = await w.endpoint(key, '/succeeded', ['job.succeeded']);
    const other = await w.endpoint(key, '/failed-only', ['job.failed']);
    const event = await w.emit('hooked', subjects.job.succeeded);

    const [request] = await w.receiver.received('/succeeded');
    const payload = verifyWebhook<{ id: string; type: string; seq: number }>(
      subscribed.secret,
      request!.headers,
      request!.body,
    );
    expect(payload).toMatchObject({ id: event.id, type: subjects.job.succeeded, seq: 3 });
    expect(() => verifyWebhook(other.secret, request!.headers, request!.body)).toThrow();

    // The fan-out is one statement for all endpoints: the other endpoint's row would exist now.
    expect(await w.h.prisma.webhookDelivery.count({ where: { eventId: event.id } })).toBe(1);
    expect(await w.h.prisma.webhookDelivery.count({ where: { endpointId: other.id } })).toBe(0);

    // A redelivered NATS message (the handler runs again) creates nothing twice.
    await w.notifier!.app.get(EventsHandler).onEvent(event);
    expect(await w.h.prisma.webhookDelivery.count({ where: { eventId: event.id } })).toBe(1);
    const delivery = await eventually('the delivery to be recorded as succeeded', async () => {
      const row = await w.h.prisma.webhookDelivery.findFirstOrThrow({
        where: { eventId: event.id },
      });
      return row.status === 'succeeded' ? row : undefined;
    });
    expect(delivery.attempts).toBe(1);
    expect(request!.headers['webhook-id']).toBe(delivery.id);
    expect(w.receiver.to('/succeeded')).toHaveLength(1);
    expect(w.receiver.to('/failed-only')).toHaveLength(0);
  });

  it('retries a failing receiver with the same webhook-id until it succeeds', async () => {
    w.receiver.on('/flaky', (_request, count) => (count <= 2 ? 503 : 200));
    const endpoint = await w.endpoint(key, '/flaky', ['job.*']);
    const event = await w.emit('hooked', subjects.job.failed);

    const requests = await w.receiver.received('/flaky', 3);
    const ids = new Set(requests.map((request) => request.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const request of requests) {
      expect(verifyWebhook(endpoint.secret, request.headers, request.body)).toMatchObject({
        id: event.id,
      });
    }
    const delivery = await eventually('three recorded attempts', async () => {
      const row = await w.h.prisma.webhookDelivery.findFirstOrThrow({
        where: { eventId: event.id, endpointId: endpoint.id },
        include: { attemptsList: { orderBy: { id: 'asc' } } },
      });
      return row.status === 'succeeded' ? row : undefined;
    });
    expect(delivery.attempts).toBe(3);
    expect(delivery.attemptsList.map((attempt) => attempt.statusCode)).toEqual([503, 503, 200]);
    // Response bodies are kept, truncated.
    expect(delivery.attemptsList[0]!.responseBody!.length).toBeLessThanOrEqual(1024);
    expect(delivery.attemptsList[0]!.responseBody).toContain('answer 503');
    const endpointRow = await w.h.prisma.webhookEndpoint.findUniqueOrThrow({
      where: { id: endpoint.id },
    });
    expect(endpointRow.failingSince).toBeNull();

    // The API shows the delivery with its attempts.
    const listed = await call(
      w.h.url,
      'GET',
      `/api/v1/webhooks/${endpoint.id}/deliveries`,
      undefined,
      key,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.items[0]).toMatchObject({
      id: delivery.id,
      status: 'succeeded',
      attempts: 3,
    });
    expect(
      listed.body.items[0].attempt_log.map((a: { status_code: number }) => a.status_code),
    ).toEqual([503, 503, 200]);
  });

  it('disables an endpoint that answers 410 Gone and tells the tenant with an event', async () => {
    w.receiver.on('/gone', () => 410);
    const endpoint = await w.endpoint(key, '/gone', []);
    w.receiver.on('/watcher', () => 200);
    const watcher = await w.endpoint(key, '/watcher', ['webhook.disabled']);
    await w.emit('hooked', subjects.job.started);

    await w.receiver.received('/gone');
    const disabled = await eventually('the endpoint to be disabled', async () => {
      const row = await w.h.prisma.webhookEndpoint.findUniqueOrThrow({
        where: { id: endpoint.id },
      });
      return row.status === 'disabled' ? row : undefined;
    });
    expect(disabled.disabledReason).toContain('410');
    const [notice] = await w.receiver.received('/watcher');
    expect(verifyWebhook(watcher.secret, notice!.headers, notice!.body)).toMatchObject({
      type: subjects.webhook.disabled,
      tenantId: 'hooked',
      data: { endpointId: endpoint.id, reason: 'gone' },
    });
    // A disabled endpoint gets no new deliveries.
    const next = await w.emit('hooked', subjects.job.succeeded);
    await eventually('the watcher-less fan-out of the next event', async () =>
      (await w.h.prisma.webhookDelivery.count({ where: { eventId: next.id } })) > 0
        ? true
        : undefined,
    );
    expect(
      await w.h.prisma.webhookDelivery.count({
        where: { eventId: next.id, endpointId: endpoint.id },
      }),
    ).toBe(0);
    expect(w.receiver.to('/gone')).toHaveLength(1);
  });

  it('signs with both secrets during a rotation grace period', async () => {
    const endpoint = await w.endpoint(key, '/rotating', ['webhook.test']);
    const rotated = await call(
      w.h.url,
      'POST',
      `/api/v1/webhooks/${endpoint.id}/rotate-secret`,
      {},
      key,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);

    const test = await call(
      w.h.url,
      'POST',
      `/api/v1/webhooks/${endpoint.id}/test`,
      undefined,
      key,
    );
    expect(test.status).toBe(202);
    const [request] = await w.receiver.received('/rotating');
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(request!.headers['webhook-id']).toBe(test.body.delivery_id);
    for (const secret of [endpoint.secret, rotated.body.secret as string]) {
      expect(verifyWebhook(secret, request!.headers, request!.body)).toMatchObject({
        type: subjects.webhook.test,
        data: { endpointId: endpoint.id },
      });
    }
  });

  it('signs with a secret stored in clear before secrets were encrypted', async () => {
    const endpoint = await w.endpoint(key, '/legacy', ['webhook.test']);
    const legacy = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    await w.h.prisma.$executeRaw`
      UPDATE webhook_endpoints SET secret = ${legacy} WHERE id = ${endpoint.id}::uuid`;
    const test = await call(
      w.h.url,
      'POST',
      `/api/v1/webhooks/${endpoint.id}/test`,
      undefined,
      key,
    );
    expect(test.status).toBe(202);
    const [request] = await w.receiver.received('/legacy');
    expect(verifyWebhook(legacy, request!.headers, request!.body)).toMatchObject({
      type: subjects.webhook.test,
      data: { endpointId: endpoint.id },
    });
  });

  it('redelivers a delivery on request, with the same webhook-id', async () => {
    const endpoint = await w.endpoint(key, '/again', ['job.cancelled']);
    const event = await w.emit('hooked', subjects.job.cancelled);
    const [first] = await w.receiver.received('/again');
    const delivery = await eventually('the first delivery to succeed', async () => {
      const row = await w.h.prisma.webhookDelivery.findFirstOrThrow({
        where: { eventId: event.id, endpointId: endpoint.id },
      });
      return row.status === 'succeeded' ? row : undefined;
    });
    const again = await call(
      w.h.url,
      'POST',
      `/api/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`,
      undefined,
      key,
    );
    expect(again.status).toBe(202);
    const [, second] = await w.receiver.received('/again', 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body).toBe(first!.body);
  });

  it("refuses another tenant's delivery routes", async () => {
    const endpoint = await w.endpoint(key, '/private', []);
    const otherKey = await register(w.h.url, 'nosy');
    for (const [method, path] of [
      ['GET', `/api/v1/webhooks/${endpoint.id}/deliveries`],
      ['POST', `/api/v1/webhooks/${endpoint.id}/test`],
      ['POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${crypto.randomUUID()}/redeliver`],
    ] as const) {
      expect((await call(w.h.url, method, path, undefined, otherKey)).status).toBe(404);
    }
  });
  it('deletes finished deliveries and events past their retention, and keeps the rest', async () => {
    const old = new Date(Date.now() - 40 * 86_400_000);
    const endpoint = await w.endpoint(key, '/history', ['job.*']);
    const [done, waiting, recent] = await Promise.all(
      ['succeeded', 'pending', 'succeeded'].map((status, i) =>
        w.h.prisma.webhookDelivery.create({
          data: {
            id: crypto.randomUUID(),
            endpointId: endpoint.id,
            tenantId: 'hooked',
            eventId: crypto.randomUUID(),
            eventType: subjects.job.succeeded,
            payload: {},
            status: status as 'succeeded' | 'pending',
            // A pending one not due for a day, so the delivery loop leaves it alone.
            nextAttemptAt: status === 'pending' ? new Date(Date.now() + 86_400_000) : null,
            createdAt: i < 2 ? old : new Date(),
          },
        }),
      ),
    );
    await w.h.prisma.webhookAttempt.create({
      data: { deliveryId: done!.id, durationMs: 3, statusCode: 200 },
    });
    const event = (time: Date) =>
      w.h.prisma.event.create({
        data: {
          id: crypto.randomUUID(),
          tenantId: 'hooked',
          type: subjects.job.succeeded,
          time,
          envelope: {},
        },
      });
    const [oldEvent, newEvent] = [await event(old), await event(new Date())];

    const swept = await w.notifier!.app.get(HistoryRetention).sweep(new Date());
    expect(swept.deliveries).toBeGreaterThanOrEqual(1);
    expect(swept.events).toBeGreaterThanOrEqual(1);
    const left = await w.h.prisma.webhookDelivery.findMany({
      where: { id: { in: [done!.id, waiting!.id, recent!.id] } },
      select: { id: true },
    });
    expect(left.map((row) => row.id).sort()).toEqual([waiting!.id, recent!.id].sort());
    expect(await w.h.prisma.webhookAttempt.count({ where: { deliveryId: done!.id } })).toBe(0);
    expect(await w.h.prisma.event.findUnique({ where: { id: oldEvent.id } })).toBeNull();
    expect(await w.h.prisma.event.findUnique({ where: { id: newEvent.id } })).not.toBeNull();
  });
});
