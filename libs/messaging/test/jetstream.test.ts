import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  jobEvent,
  jobSubmitCommand,
  registryOf,
  type Envelope,
  type JobSubmitCommand,
  createEnvelope,
} from '@roam/contracts';

import { JetStreamConnection } from '../src/jetstream/connection.js';
import type { JetStreamContext } from '../src/jetstream/context.js';
import { JetStreamExceptionFilter } from '../src/jetstream/exception-filter.js';
import type { JetStreamOptions } from '../src/jetstream/options.js';
import { JetStreamPublisher } from '../src/jetstream/publisher.js';
import { durableName, JetStreamEventPattern, JetStreamServer } from '../src/jetstream/server.js';
import {
  collectDeadLetters,
  connectOrExplain,
  gate,
  natsUrl,
  Recorder,
  uniquePrefix,
} from './jetstream-harness.js';

const S = {
  work: 'roam.cmd.v1.test.work',
  dedupe: 'roam.cmd.v1.test.dedupe',
  slow: 'roam.cmd.v1.test.slow',
  known: 'roam.evt.v1.test.known',
  anyEvent: 'roam.evt.v1.test.*',
} as const;

const registry = registryOf({
  [S.work]: jobSubmitCommand,
  [S.dedupe]: jobSubmitCommand,
  [S.slow]: jobSubmitCommand,
  [S.known]: jobEvent,
});

const prefix = uniquePrefix();
const options = (name: string, extra: Partial<JetStreamOptions> = {}): JetStreamOptions => ({
  servers: natsUrl(),
  name,
  subjectPrefix: prefix,
  registry,
  maxDeliver: 3,
  backoffMs: [50, 100],
  ackWaitMs: 5000,
  ...extra,
});

interface Handled {
  subject: string;
  jobId: string;
  delivery: number;
  traceparent: string | undefined;
  messageId: string | undefined;
}

const handled = new Recorder<Handled>();
const attempts = new Recorder<Handled>();
/** Job ids whose handler always throws; on its 2nd delivery it first waits for `poisonGate`. */
const poison = new Set<string>();
let poisonGate = gate();
const slowStarted = gate();
const slowRelease = gate();
const slowDone = new Recorder<{ jobId: string; connectionOpen: boolean }>();
let drainServer: JetStreamServer | undefined;

function record(envelope: Envelope<JobSubmitCommand>, ctx: JetStreamContext): Handled {
  return {
    subject: ctx.subject,
    jobId: envelope.data.jobId,
    delivery: ctx.deliveryCount,
    traceparent: ctx.traceparent,
    messageId: ctx.messageId,
  };
}

@Controller()
class TestHandlers {
  @JetStreamEventPattern(S.work)
  async work(
    @Payload() envelope: Envelope<JobSubmitCommand>,
    @Ctx() ctx: JetStreamContext,
  ): Promise<void> {
    const seen = record(envelope, ctx);
    attempts.push(seen);
    if (poison.has(seen.jobId)) {
      if (seen.delivery === 2) await poisonGate.promise;
      throw new Error(`boom ${seen.jobId}`);
    }
    handled.push(seen);
  }

  @JetStreamEventPattern(S.dedupe)
  dedupe(@Payload() envelope: Envelope<JobSubmitCommand>, @Ctx() ctx: JetStreamContext): void {
    handled.push(record(envelope, ctx));
  }

  @JetStreamEventPattern(S.anyEvent)
  event(@Payload() envelope: Envelope<{ jobId: string }>, @Ctx() ctx: JetStreamContext): void {
    handled.push({
      subject: ctx.subject,
      jobId: envelope.data.jobId,
      delivery: ctx.deliveryCount,
      traceparent: ctx.traceparent,
      messageId: ctx.messageId,
    });
  }
}

@Module({ controllers: [TestHandlers] })
class TestModule {}

@Controller()
class SlowHandlers {
  @JetStreamEventPattern(S.slow)
  async slow(@Payload() envelope: Envelope<JobSubmitCommand>): Promise<void> {
    slowStarted.open();
    await slowRelease.promise;
    // Had close() not waited for this handler, it would already be draining the connection.
    slowDone.push({
      jobId: envelope.data.jobId,
      connectionOpen: drainServer?.connection.isHealthy() ?? false,
    });
  }
}

@Module({ controllers: [SlowHandlers] })
class SlowModule {}

async function boot(
  module: unknown,
  name: string,
  extra: Partial<JetStreamOptions> = {},
): Promise<{ app: INestMicroservice; server: JetStreamServer }> {
  const server = new JetStreamServer(options(name, extra));
  const app = await NestFactory.createMicroservice(module as never, {
    strategy: server,
    logger: false,
  });
  app.useGlobalFilters(new JetStreamExceptionFilter());
  await app.listen();
  return { app, server };
}

const command = (
  subject: string,
  extra: { traceparent?: string } = {},
): Envelope<JobSubmitCommand> =>
  createEnvelope(subject, { jobId: randomUUID() }, { tenantId: 'acme', source: 'test', ...extra });

let connection: JetStreamConnection;
let publisher: JetStreamPublisher;
let app: INestMicroservice;
let dlq: ReturnType<typeof collectDeadLetters>;
const encoder = new TextEncoder();

beforeAll(async () => {
  connection = await connectOrExplain(options('test-publisher'));
  publisher = new JetStreamPublisher(connection);
  dlq = collectDeadLetters(connection, prefix);
  ({ app } = await boot(TestModule, 'worker'));
}, 30_000);

afterAll(async () => {
  await app?.close();
  if (connection?.isHealthy()) {
    dlq.sub.unsubscribe();
    for (const stream of ['commands', 'events', 'deadLetters'] as const) {
      await connection.manager.streams
        .delete(connection.options.subjects.streamName(stream))
        .catch(() => false);
    }
  }
  await connection?.drain();
}, 30_000);

describe('JetStream transport', () => {
  it('handles a command published twice with the same id once', async () => {
    const envelope = command(S.dedupe);
    const first = await publisher.publish(envelope);
    const second = await publisher.publish(envelope);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);

    // A later message on the same consumer has been handled, so a duplicate would have been too.
    const sentinel = command(S.dedupe);
    await publisher.publish(sentinel);
    await handled.waitFor('sentinel', (h) => h.jobId === sentinel.data.jobId);
    await handled.waitFor('original', (h) => h.jobId === envelope.data.jobId);
    expect(handled.items.filter((h) => h.jobId === envelope.data.jobId)).toHaveLength(1);
    expect(handled.items.find((h) => h.jobId === envelope.data.jobId)?.messageId).toBe(envelope.id);
  });

  it('retries a failing handler with backoff, then dead-letters it while other messages flow', async () => {
    poisonGate = gate();
    const bad = command(S.work);
    poison.add(bad.data.jobId);
    await publisher.publish(bad);

    // The poison message is held inside its second attempt until a good message on the
    // same consumer has been handled: proves one failing message never blocks the others.
    await attempts.waitFor(
      'second delivery of the poison message',
      (h) => h.jobId === bad.data.jobId && h.delivery === 2,
    );
    const good = command(S.work);
    await publisher.publish(good);
    await handled.waitFor('good message while poison retries', (h) => h.jobId === good.data.jobId);
    poisonGate.open();

    const letter = await dlq.letters.waitFor('poison dead letter', (l) =>
      l.payload.includes(bad.data.jobId),
    );
    expect(letter.wireSubject).toBe(`${prefix}.roam.dlq.cmd.v1.test.work`);
    expect(letter.originalSubject).toBe(S.work);
    expect(letter.deliveries).toBe(3);
    expect(letter.consumer).toBe(durableName('worker', S.work));
    expect(letter.error.message).toBe(`boom ${bad.data.jobId}`);
    expect(letter.error.stack).toContain('boom');
    expect(letter.headers['Nats-Msg-Id']).toBe(bad.id);
    expect(JSON.parse(letter.payload)).toEqual(bad);
    expect(attempts.items.filter((h) => h.jobId === bad.data.jobId).map((h) => h.delivery)).toEqual(
      [1, 2, 3],
    );
    expect(handled.items.some((h) => h.jobId === bad.data.jobId)).toBe(false);
  });

  it('dead-letters malformed payloads with the reason and keeps serving', async () => {
    const js = connection.client;
    const wire = (s: string): string => connection.options.subjects.toWire(s);
    await js.publish(wire(S.work), encoder.encode('{not json'));
    const wrongData = { ...command(S.work), data: { jobId: 'not-a-uuid' } };
    await js.publish(wire(S.work), encoder.encode(JSON.stringify(wrongData)));
    const noEnvelope = { hello: 'world' };
    await js.publish(wire(S.work), encoder.encode(JSON.stringify(noEnvelope)));
    const unknown = createEnvelope(
      'roam.evt.v1.test.unknown',
      { jobId: randomUUID() },
      { source: 'test' },
    );
    await js.publish(wire(unknown.type), encoder.encode(JSON.stringify(unknown)));
    await js.publish(wire(S.work), new Uint8Array([0xff, 0xfe, 0x00]));

    const good = command(S.work);
    await publisher.publish(good);
    await handled.waitFor('good message after malformed ones', (h) => h.jobId === good.data.jobId);

    const notJson = await dlq.letters.waitFor('not-JSON letter', (l) => l.payload === '{not json');
    expect(notJson.error.message).toMatch(/not JSON/);
    expect(notJson.deliveries).toBe(1);
    const badData = await dlq.letters.waitFor('bad-data letter', (l) =>
      l.payload.includes('not-a-uuid'),
    );
    expect(badData.error.message).toMatch(/invalid data for roam\.cmd\.v1\.test\.work: jobId/);
    const badEnvelope = await dlq.letters.waitFor('bad-envelope letter', (l) =>
      l.payload.includes('hello'),
    );
    expect(badEnvelope.error.message).toMatch(/invalid envelope/);
    const unknownLetter = await dlq.letters.waitFor(
      'unknown-subject letter',
      (l) => l.originalSubject === unknown.type,
    );
    expect(unknownLetter.error.message).toMatch(/unknown subject/);
    expect(unknownLetter.wireSubject).toBe(`${prefix}.roam.dlq.evt.v1.test.unknown`);
    const binary = await dlq.letters.waitFor(
      'binary letter',
      (l) => l.payloadEncoding === 'base64',
    );
    expect(Buffer.from(binary.payload, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
    expect(binary.error.message).toMatch(/not JSON/);
  });

  it('serves wildcard patterns, validating by the concrete subject', async () => {
    const event = createEnvelope(
      S.known,
      {
        jobId: randomUUID(),
        name: 'j',
        status: 'running',
        phase: 'Running',
      },
      { source: 'test' },
    );
    await publisher.publish(event);
    const seen = await handled.waitFor('known event', (h) => h.jobId === event.data.jobId);
    expect(seen.subject).toBe(S.known);
  });

  it('passes traceparent from the header, falling back to the envelope', async () => {
    const fromEnvelope = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const fromHeader = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const a = command(S.work, { traceparent: fromEnvelope });
    await publisher.publish(a);
    const b = command(S.work, { traceparent: fromEnvelope });
    await publisher.publish(b, { headers: { traceparent: fromHeader } });
    const c = command(S.work, { traceparent: fromEnvelope });
    // Published without headers at all: only the envelope carries the trace.
    await connection.client.publish(
      connection.options.subjects.toWire(S.work),
      encoder.encode(JSON.stringify(c)),
      { msgID: c.id },
    );

    expect((await handled.waitFor('a', (h) => h.jobId === a.data.jobId)).traceparent).toBe(
      fromEnvelope,
    );
    expect((await handled.waitFor('b', (h) => h.jobId === b.data.jobId)).traceparent).toBe(
      fromHeader,
    );
    expect((await handled.waitFor('c', (h) => h.jobId === c.data.jobId)).traceparent).toBe(
      fromEnvelope,
    );
  });

  it('creates streams and consumers idempotently: a second boot reuses and updates them', async () => {
    await connection.ensureStreams();
    await connection.ensureStreams();
    const stream = connection.options.subjects.streamName('commands');
    const before = await connection.manager.consumers.info(stream, durableName('worker', S.work));

    const { app: second } = await boot(TestModule, 'worker', { ackWaitMs: 7000 });
    try {
      const after = await connection.manager.consumers.info(stream, durableName('worker', S.work));
      expect(after.created).toBe(before.created);
      expect(after.config.ack_wait).toBe(7000 * 1_000_000);
      expect(after.config.filter_subject).toBe(`${prefix}.${S.work}`);
      const info = await connection.manager.streams.info(stream);
      expect(info.config.subjects).toEqual([`${prefix}.roam.cmd.>`]);
      expect(info.config.duplicate_window).toBe(10 * 60_000 * 1_000_000);
      expect(info.config.max_age).toBe(7 * 24 * 3600 * 1e9);

      const probe = command(S.dedupe);
      await publisher.publish(probe);
      await handled.waitFor('message after second boot', (h) => h.jobId === probe.data.jobId);
    } finally {
      await second.close();
    }
  });

  it('refuses to publish an envelope that fails its schema', async () => {
    const bad = { ...command(S.work), data: { jobId: 42 } } as unknown as Envelope;
    await expect(publisher.publish(bad)).rejects.toThrow(/refusing to publish.*jobId/);
    const unknown = createEnvelope('roam.cmd.v1.test.nope', {}, { source: 'test' });
    await expect(publisher.publish(unknown)).rejects.toThrow(/unknown subject/);
  });

  it('close() lets an in-flight handler finish and ack before returning', async () => {
    const { app: drainApp, server } = await boot(SlowModule, 'drainer');
    drainServer = server;
    const envelope = command(S.slow);
    await publisher.publish(envelope);
    await slowStarted.promise;

    // Release the handler only once close() has stopped the consumers and reached the point
    // where it must wait for in-flight work.
    const statuses: string[] = [];
    drainServer.status.subscribe((status) => {
      statuses.push(status);
      if (status === 'draining') slowRelease.open();
    });
    let closed = false;
    const closing = drainApp.close().then(() => {
      closed = true;
    });
    const done = await slowDone.waitFor(
      'slow handler to finish',
      (d) => d.jobId === envelope.data.jobId,
    );
    expect(closed).toBe(false);
    expect(done.connectionOpen).toBe(true);
    await closing;
    expect(statuses).toEqual(['connected', 'closing', 'draining', 'closed']);

    const info = await connection.manager.consumers.info(
      connection.options.subjects.streamName('commands'),
      durableName('drainer', S.slow),
    );
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
    expect(info.num_redelivered).toBe(0);
  });

  it('fails with a clear message when NATS cannot be reached', async () => {
    const unreachable = new JetStreamConnection({ servers: 'nats://127.0.0.1:1', name: 'nowhere' });
    await expect(unreachable.connect()).rejects.toThrow(
      /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/,
    );
  });
});
