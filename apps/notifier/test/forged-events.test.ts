import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEnvelope, subjects, type JobEvent } from '@roam/contracts';
import { JetStreamConnection, JetStreamPublisher } from '@roam/messaging';
import { metrics } from '@roam/telemetry';
import { eventually } from '@roam/testing';

import { EventsHandler } from '../src/fanout/events.handler.js';
import { register, startWorld, type World } from './world.js';

const untrusted = async (reason: 'unknown' | 'altered'): Promise<number> =>
  (await metrics.webhookUntrustedEvents.get()).values.find((v) => v.labels.reason === reason)
    ?.value ?? 0;

describe('notifier: only committed events are delivered', () => {
  let w: World;
  let connection: JetStreamConnection;
  let publisher: JetStreamPublisher;
  let key: string;
  let victimKey: string;

  beforeAll(async () => {
    w = await startWorld('notifier_forged');
    key = await register(w.h.url, 'target');
    victimKey = await register(w.h.url, 'victim');
    connection = new JetStreamConnection({
      servers: w.h.env.NATS_URL!,
      name: 'forger',
      subjectPrefix: w.h.env.NATS_SUBJECT_PREFIX,
    });
    publisher = new JetStreamPublisher(connection);
  });

  afterAll(async () => {
    await connection?.drain();
    await w?.close();
  });

  it('drops a job.succeeded published on the bus that roam never committed, delivers a real one', async () => {
    await w.endpoint(key, '/target', ['job.succeeded']);
    const before = await untrusted('unknown');
    const jobId = crypto.randomUUID();
    const forged = createEnvelope<JobEvent>(
      subjects.job.succeeded,
      { jobId, name: 'forged', status: 'succeeded', phase: 'Succeeded' },
      { source: 'roam/reconciler', tenantId: 'target', subject: `jobs/${jobId}`, seq: 9 },
    );
    await publisher.publish(forged);
    await eventually(
      'the forged event to be counted',
      async () => (await untrusted('unknown')) > before,
    );

    const real = await w.emit('target', subjects.job.succeeded);
    const [request] = await w.receiver.received('/target');
    expect(JSON.parse(request!.body)).toMatchObject({ id: real.id });
    expect(await w.h.prisma.webhookDelivery.count({ where: { eventId: forged.id } })).toBe(0);
    expect(w.receiver.to('/target')).toHaveLength(1);
  });

  it("delivers the committed event, not a message's altered tenant", async () => {
    // Subscribed to the job event only: the victim tenant's own `tenant.ready`, which the
    // scheduler emits whenever it has provisioned the tenant, is not what this test is about.
    const victim = await w.endpoint(victimKey, '/victim', ['job.failed']);
    const before = await untrusted('altered');
    const real = await w.emit('target', subjects.job.failed);
    // The same id re-sent with another tenant (JetStream would deduplicate a republish within
    // its window, so the handler is called as a redelivery would call it).
    await w.notifier!.app.get(EventsHandler).onEvent({ ...real, tenantId: 'victim' });
    expect(await untrusted('altered')).toBe(before + 1);
    expect(await w.h.prisma.webhookDelivery.count({ where: { endpointId: victim.id } })).toBe(0);
  });
});
