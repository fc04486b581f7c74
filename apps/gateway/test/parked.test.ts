import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEnvelope, subjects } from '@roam/contracts';
import { type DeadLetter, JetStreamConnection } from '@roam/messaging';
import { eventually, testNatsUrl } from '@roam/testing';

import {
  ADMIN_TOKEN,
  call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';

describe('parked messages (admin)', () => {
  let h: Harness;
  let nats: JetStreamConnection;
  let tenantKey: string;
  const envelope = createEnvelope(
    subjects.webhook.test,
    { endpointId: randomUUID(), message: 'parked' },
    { source: 'test' },
  );

  beforeAll(async () => {
    h = await startHarness('parked');
    tenantKey = await register(h.url, 'parked-tenant');
    nats = new JetStreamConnection({
      servers: testNatsUrl(),
      name: 'parkedtest',
      subjectPrefix: h.env.NATS_SUBJECT_PREFIX,
    });
    await nats.connect();
    // What the relay leaves after its last attempt failed.
    await h.prisma.outboxMessage.create({
      data: {
        id: envelope.id,
        subject: envelope.type,
        envelope: JSON.parse(JSON.stringify(envelope)),
        attempts: 20,
        lastError: 'publish to roam.evt.v1.webhook.test failed after 3 attempt(s): TIMEOUT',
        parkedAt: new Date(),
      },
    });
    // Two dead letters, as a consumer writes them.
    for (const n of [1, 2]) {
      const letter: DeadLetter = {
        originalSubject: subjects.job.submit,
        consumer: 'scheduler_roam_cmd_v1_job_submit',
        deliveries: 5,
        error: { message: `handler failed ${n}` },
        failedAt: new Date().toISOString(),
        headers: {},
        payload: '{}',
      };
      await nats.client.publish(
        nats.options.subjects.deadLetterWire(subjects.job.submit),
        JSON.stringify(letter),
      );
    }
  });

  afterAll(async () => {
    await nats?.drain();
    await h?.close();
  });

  it('lists parked outbox rows and dead letters with their reasons, paged', async () => {
    const first = await call(h.url, 'GET', '/api/v1/admin/parked?limit=1', undefined, ADMIN_TOKEN);
    expect(first.status).toBe(200);
    expect(first.body.outbox.items).toEqual([
      expect.objectContaining({
        id: envelope.id,
        subject: subjects.webhook.test,
        attempts: 20,
        reason: expect.stringContaining('TIMEOUT'),
      }),
    ]);
    expect(first.body.outbox.next_cursor).toBeNull();
    expect(first.body.dead_letters.items).toEqual([
      expect.objectContaining({
        subject: subjects.job.submit,
        consumer: 'scheduler_roam_cmd_v1_job_submit',
        reason: 'handler failed 1',
      }),
    ]);
    const cursor = first.body.dead_letters.next_cursor as number;
    expect(typeof cursor).toBe('number');
    const second = await call(
      h.url,
      'GET',
      `/api/v1/admin/parked?limit=1&dead_letter_after=${cursor}`,
      undefined,
      ADMIN_TOKEN,
    );
    expect(second.body.dead_letters.items.map((l: { reason: string }) => l.reason)).toEqual([
      'handler failed 2',
    ]);
    expect(second.body.dead_letters.next_cursor).toBeNull();
  });

  it('refuses tenants and anonymous callers, and bad input', async () => {
    expect((await call(h.url, 'GET', '/api/v1/admin/parked', undefined, tenantKey)).status).toBe(
      403,
    );
    expect((await call(h.url, 'GET', '/api/v1/admin/parked')).status).toBe(401);
    const retryAsTenant = await call(
      h.url,
      'POST',
      `/api/v1/admin/parked/${envelope.id}/retry`,
      undefined,
      tenantKey,
    );
    expect(retryAsTenant.status).toBe(403);
    const badQuery = await call(
      h.url,
      'GET',
      '/api/v1/admin/parked?limit=0',
      undefined,
      ADMIN_TOKEN,
    );
    expect(badQuery.status).toBe(400);
    expect(badQuery.headers.get('content-type')).toContain('application/problem+json');
    const badId = await call(
      h.url,
      'POST',
      '/api/v1/admin/parked/nope/retry',
      undefined,
      ADMIN_TOKEN,
    );
    expect(badId.status).toBe(400);
    const unknown = await call(
      h.url,
      'POST',
      `/api/v1/admin/parked/${randomUUID()}/retry`,
      undefined,
      ADMIN_TOKEN,
    );
    expect(unknown.status).toBe(404);
  });

  it('requeues a parked outbox row, which the relay then publishes', async () => {
    const retried = await call(
      h.url,
      'POST',
      `/api/v1/admin/parked/${envelope.id}/retry`,
      undefined,
      ADMIN_TOKEN,
    );
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual({ id: envelope.id, status: 'requeued' });
    const again = await call(
      h.url,
      'POST',
      `/api/v1/admin/parked/${envelope.id}/retry`,
      undefined,
      ADMIN_TOKEN,
    );
    expect(again.status).toBe(409);
    const row = await eventually('the relay to publish the requeued row', async () => {
      const current = await h.prisma.outboxMessage.findUniqueOrThrow({
        where: { id: envelope.id },
      });
      return current.publishedAt !== null && current;
    });
    expect(row.parkedAt).toBeNull();
    const list = await call(h.url, 'GET', '/api/v1/admin/parked', undefined, ADMIN_TOKEN);
    expect(list.body.outbox.items).toEqual([]);
  });
});
