import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import { createEnvelope, type Envelope, registryOf } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
import {
  createTestDatabase,
  deleteTestStreams,
  eventually,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';
import { pino } from 'pino';
import { z } from 'zod';

import {
  JetStreamConnection,
  JetStreamEventPattern,
  JetStreamPublisher,
  JetStreamServer,
} from '../src/jetstream/index.js';
import { Outbox } from '../src/outbox/index.js';

const SUBJECT = 'roam.cmd.v1.test.apply';
const EVENT = 'roam.evt.v1.test.happened';
const effects: string[] = [];

@Controller()
class SideEffectHandler {
  @JetStreamEventPattern(SUBJECT)
  apply(@Payload() envelope: Envelope<{ n: number }>): void {
    effects.push(envelope.id);
  }
}

@Module({ controllers: [SideEffectHandler] })
class TestModule {}

describe('transactional outbox', () => {
  const prefix = testSubjectPrefix();
  const registry = registryOf({
    [SUBJECT]: z.object({ n: z.number() }),
    [EVENT]: z.object({ any: z.number() }),
  });
  const logger = pino({ level: 'silent' });
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let connection: JetStreamConnection;
  let outbox: Outbox;
  let close: () => Promise<void>;

  beforeAll(async () => {
    db = await createTestDatabase('outbox');
    prisma = db.prisma;
    connection = new JetStreamConnection({
      servers: testNatsUrl(),
      name: 'outboxtest',
      subjectPrefix: prefix,
      registry,
    });
    await connection.connect();
    await connection.ensureStreams();
    outbox = new Outbox(prisma, new JetStreamPublisher(connection), logger);
    const app = await NestFactory.createMicroservice(TestModule, {
      strategy: new JetStreamServer(connection),
      logger: false,
    });
    await app.listen();
    close = () => app.close();
  });

  afterAll(async () => {
    await close?.();
    await connection?.drain();
    await db?.drop();
    await deleteTestStreams(prefix);
  });

  const waitForEffects = (count: number) =>
    eventually(`${count} side effects`, () => effects.length >= count && effects.length);

  it('commits the message with the state change and publishes it after commit', async () => {
    const envelope = createEnvelope(SUBJECT, { n: 1 }, { source: 'test' });
    await outbox.transaction(async (tx) => {
      await tx.tenant.create({ data: { id: 'outbox-a', namespace: 'roam-outbox-a' } });
      return { result: undefined, messages: [envelope] };
    });
    await waitForEffects(1);
    expect(effects).toEqual([envelope.id]);
    await outbox.flushMarks();
    const row = await prisma.outboxMessage.findUniqueOrThrow({ where: { id: envelope.id } });
    expect(row.publishedAt).not.toBeNull();
  });

  it('keeps events, not commands, in the event log of the same transaction', async () => {
    const event = createEnvelope(EVENT, { any: 1 }, { source: 'test', tenantId: 't1' });
    const command = createEnvelope(SUBJECT, { n: 9 }, { source: 'test' });
    // An event belongs to its tenant (the events table refers to tenants).
    await outbox.transaction(async (tx) => {
      await tx.tenant.create({ data: { id: 't1', namespace: 'roam-t1' } });
      return { result: undefined, messages: [event, command] };
    });
    await outbox.flushMarks();
    const logged = await prisma.event.findMany({ where: { id: { in: [event.id, command.id] } } });
    expect(logged.map((row) => [row.id, row.tenantId, row.type])).toEqual([
      [event.id, 't1', EVENT],
    ]);
    expect(await prisma.outboxMessage.count({ where: { publishedAt: null } })).toBe(0);
  });

  it('a message that cannot be published does not hold back the ones behind it', async () => {
    effects.length = 0;
    const poison = createEnvelope('roam.cmd.v1.test.unregistered', { n: 0 }, { source: 'test' });
    const good = createEnvelope(SUBJECT, { n: 10 }, { source: 'test' });
    await prisma.$transaction((tx) => outbox.write(tx, [poison]));
    await prisma.$transaction((tx) => outbox.write(tx, [good]));
    expect(await outbox.relayOnce(0)).toBe(1);
    await waitForEffects(1);
    expect(effects).toEqual([good.id]);
    const stuck = await prisma.outboxMessage.findUniqueOrThrow({ where: { id: poison.id } });
    expect(stuck).toMatchObject({ publishedAt: null, attempts: 1 });
    expect(stuck.lastError).toContain('unregistered');
    // Put aside so the tests after this one start from a clean outbox.
    await prisma.outboxMessage.update({
      where: { id: poison.id },
      data: { parkedAt: new Date() },
    });
  });

  it('writes nothing when the transaction rolls back', async () => {
    const envelope = createEnvelope(SUBJECT, { n: 2 }, { source: 'test' });
    await expect(
      outbox.transaction(async (tx) => {
        await tx.tenant.create({ data: { id: 'outbox-b', namespace: 'roam-outbox-b' } });
        await outbox.write(tx, [envelope]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await prisma.outboxMessage.count({ where: { id: envelope.id } })).toBe(0);
    expect(await prisma.tenant.count({ where: { id: 'outbox-b' } })).toBe(0);
  });

  it('relays a message committed but never published (a crash after commit), exactly once', async () => {
    effects.length = 0;
    const envelope = createEnvelope(SUBJECT, { n: 3 }, { source: 'test' });
    // The crash: the transaction commits, the process dies before dispatch().
    await prisma.$transaction((tx) => outbox.write(tx, [envelope]));
    expect(await outbox.relayOnce(0)).toBe(1);
    await waitForEffects(1);
    expect(effects).toEqual([envelope.id]);
    // Nothing is left for a second relay pass.
    expect(await outbox.relayOnce(0)).toBe(0);
  });

  it('a republish of a message already published (crash before marking) is deduplicated', async () => {
    effects.length = 0;
    const first = createEnvelope(SUBJECT, { n: 4 }, { source: 'test' });
    const marker = createEnvelope(SUBJECT, { n: 5 }, { source: 'test' });
    await prisma.$transaction((tx) => outbox.write(tx, [first]));
    // Published, but the process died before the row was marked.
    await new JetStreamPublisher(connection).publish(first);
    expect(await outbox.relayOnce(0)).toBe(1);
    // A later message proves the consumer has caught up past any duplicate.
    await new JetStreamPublisher(connection).publish(marker);
    await eventually('the marker message', () => effects.includes(marker.id));
    expect(effects.filter((id) => id === first.id)).toHaveLength(1);
  });

  it('counts a publish that timed out as an attempt and parks the row after its last one', async () => {
    // A publisher whose acks never come: a subject no stream covers, with a core subscriber
    // that swallows the publish request.
    const silentPrefix = testSubjectPrefix();
    const silent = new JetStreamConnection({
      servers: testNatsUrl(),
      name: 'outboxsilent',
      subjectPrefix: silentPrefix,
      registry,
      publishTimeoutMs: 100,
      publishAttempts: 1,
    });
    await silent.connect();
    const swallow = silent.nats.subscribe(`${silentPrefix}.>`);
    const hung = new Outbox(prisma, new JetStreamPublisher(silent), logger, {
      maxAttempts: 2,
      retryBackoffMs: 0,
    });
    const envelope = createEnvelope(SUBJECT, { n: 20 }, { source: 'test' });
    try {
      await prisma.$transaction((tx) => hung.write(tx, [envelope]));
      expect(await hung.relayOnce(0)).toBe(0);
      const first = await prisma.outboxMessage.findUniqueOrThrow({ where: { id: envelope.id } });
      expect(first).toMatchObject({ attempts: 1, parkedAt: null, publishedAt: null });
      expect(first.lastError).toMatch(/failed after 1 attempt\(s\) of at most 100 ms each/);
      expect(await hung.relayOnce(0)).toBe(0);
      const parked = await prisma.outboxMessage.findUniqueOrThrow({ where: { id: envelope.id } });
      expect(parked).toMatchObject({ attempts: 2, publishedAt: null });
      expect(parked.parkedAt).not.toBeNull();
      // Parked means never tried again by the relay.
      expect(await hung.relayOnce(0)).toBe(0);
      expect(
        (await prisma.outboxMessage.findUniqueOrThrow({ where: { id: envelope.id } })).attempts,
      ).toBe(2);
      expect((await hung.parked({ limit: 10 })).map((row) => row.id)).toContain(envelope.id);
    } finally {
      swallow.unsubscribe();
      await silent.drain();
    }

    // An operator's retry puts it back; the working relay then publishes it.
    effects.length = 0;
    expect(await outbox.requeue(envelope.id)).toBe('requeued');
    expect(await outbox.requeue(envelope.id)).toBe('not_parked');
    expect(await outbox.requeue('00000000-0000-4000-8000-000000000000')).toBe('not_found');
    expect(await outbox.relayOnce(0)).toBe(1);
    await eventually('the requeued message', () => effects.includes(envelope.id));
  });

  it('parks a row whose last attempt never reported (the relay died mid-publish)', async () => {
    const envelope = createEnvelope(SUBJECT, { n: 21 }, { source: 'test' });
    await prisma.$transaction((tx) => outbox.write(tx, [envelope]));
    // What a relay that claimed its 20th attempt and died leaves behind: an expired lease.
    await prisma.outboxMessage.update({
      where: { id: envelope.id },
      data: { attempts: 20, nextAttemptAt: new Date(Date.now() - 1000) },
    });
    expect(await outbox.relayOnce(0)).toBe(0);
    const row = await prisma.outboxMessage.findUniqueOrThrow({ where: { id: envelope.id } });
    expect(row.parkedAt).not.toBeNull();
    expect(row.lastError).toMatch(/attempt 20 had no outcome within the claim lease/);
  });
});
