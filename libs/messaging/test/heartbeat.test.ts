import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Subscription } from '@nats-io/transport-node';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  createEnvelope,
  jobSubmitCommand,
  registryOf,
  type Envelope,
  type JobSubmitCommand,
} from '@roam/contracts';

import type { JetStreamConnection } from '../src/jetstream/connection.js';
import type { JetStreamContext } from '../src/jetstream/context.js';
import { JetStreamExceptionFilter } from '../src/jetstream/exception-filter.js';
import type { JetStreamOptions } from '../src/jetstream/options.js';
import { JetStreamPublisher, PublishError } from '../src/jetstream/publisher.js';
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
  long: 'roam.cmd.v1.test.long',
  stuck: 'roam.cmd.v1.test.stuck',
} as const;

const registry = registryOf({ [S.long]: jobSubmitCommand, [S.stuck]: jobSubmitCommand });
const prefix = uniquePrefix();
// An ack wait far shorter than the handlers below run: without heartbeats they would be
// redelivered while still running. Long enough that a busy test process (a heartbeat every
// 500 ms) does not miss it by a stall.
const ACK_WAIT_MS = 1500;
/** Longer than the four heartbeats the first test waits for (2 s). */
const MAX_HANDLER_MS = 4000;

const options = (name: string, extra: Partial<JetStreamOptions> = {}): JetStreamOptions => ({
  servers: natsUrl(),
  name,
  subjectPrefix: prefix,
  registry,
  maxDeliver: 3,
  backoffMs: [50],
  ackWaitMs: ACK_WAIT_MS,
  ...extra,
});

interface Delivery {
  subject: string;
  jobId: string;
  delivery: number;
}
const deliveries = new Recorder<Delivery>();
const finished = new Recorder<string>();
/** Heartbeats (`+WPI` on the ack subject) seen per consumer. */
const heartbeats = new Recorder<string>();
let longRelease = gate();
const stuckRelease = gate();

@Controller()
class LongHandlers {
  @JetStreamEventPattern(S.long)
  async long(@Payload() envelope: Envelope<JobSubmitCommand>, @Ctx() ctx: JetStreamContext) {
    deliveries.push({
      subject: ctx.subject,
      jobId: envelope.data.jobId,
      delivery: ctx.deliveryCount,
    });
    await longRelease.promise;
    finished.push(envelope.data.jobId);
  }

  @JetStreamEventPattern(S.stuck)
  async stuck(@Payload() envelope: Envelope<JobSubmitCommand>, @Ctx() ctx: JetStreamContext) {
    deliveries.push({
      subject: ctx.subject,
      jobId: envelope.data.jobId,
      delivery: ctx.deliveryCount,
    });
    await stuckRelease.promise;
    finished.push(envelope.data.jobId);
  }
}

@Module({ controllers: [LongHandlers] })
class LongModule {}

let connection: JetStreamConnection;
let publisher: JetStreamPublisher;
let app: INestMicroservice;
let dlq: ReturnType<typeof collectDeadLetters>;
let ackSub: Subscription;

const command = (subject: string): Envelope<JobSubmitCommand> =>
  createEnvelope(subject, { jobId: randomUUID() }, { tenantId: 'acme', source: 'test' });

const consumerInfo = (subject: string) =>
  connection.manager.consumers.info(
    connection.options.subjects.streamName('commands'),
    durableName('longworker', subject),
  );

/** The consumer's info once nothing is waiting for an ack (each info call is a round trip). */
async function settled(subject: string) {
  for (let round = 0; ; round += 1) {
    const info = await consumerInfo(subject);
    if (info.num_ack_pending === 0 || round >= 500) return info;
  }
}

beforeAll(async () => {
  connection = await connectOrExplain(options('heartbeat-publisher'));
  publisher = new JetStreamPublisher(connection);
  dlq = collectDeadLetters(connection, prefix);
  const stream = connection.options.subjects.streamName('commands');
  ackSub = connection.nats.subscribe(`$JS.ACK.${stream}.>`, {
    callback: (err, msg) => {
      if (!err && msg.string() === '+WPI') heartbeats.push(msg.subject.split('.')[3] ?? '');
    },
  });
  const server = new JetStreamServer(options('longworker', { maxHandlerMs: MAX_HANDLER_MS }));
  app = await NestFactory.createMicroservice(LongModule as never, {
    strategy: server,
    logger: false,
  });
  app.useGlobalFilters(new JetStreamExceptionFilter());
  await app.listen();
}, 30_000);

afterAll(async () => {
  longRelease.open();
  stuckRelease.open();
  await app?.close();
  ackSub?.unsubscribe();
  dlq?.sub.unsubscribe();
  if (connection?.isHealthy()) {
    for (const stream of ['commands', 'events', 'deadLetters'] as const) {
      await connection.manager.streams
        .delete(connection.options.subjects.streamName(stream))
        .catch(() => false);
    }
  }
  await connection?.drain();
}, 30_000);

describe('handler heartbeats', () => {
  it('keeps a handler that outlives the ack wait from being redelivered, and acks it once', async () => {
    const envelope = command(S.long);
    await publisher.publish(envelope);
    await deliveries.waitFor('the first delivery', (d) => d.jobId === envelope.data.jobId);
    // Four heartbeats are 4/3 of the ack wait: without them the server would have redelivered.
    const durable = durableName('longworker', S.long);
    for (let n = 1; n <= 4; n += 1)
      await heartbeats.waitFor(
        `heartbeat ${n}`,
        () => heartbeats.items.filter((c) => c === durable).length >= n,
      );
    expect(deliveries.items.filter((d) => d.jobId === envelope.data.jobId)).toHaveLength(1);
    longRelease.open();
    await finished.waitFor('the handler to finish', (id) => id === envelope.data.jobId);
    const info = await settled(S.long);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
    expect(deliveries.items.filter((d) => d.jobId === envelope.data.jobId)).toHaveLength(1);
    longRelease = gate();
  });

  it('parks a handler that runs past maxHandlerMs: dead-lettered with the reason, never redelivered', async () => {
    const envelope = command(S.stuck);
    await publisher.publish(envelope);
    const letter = await dlq.letters.waitFor(
      'the overrunning message to be dead-lettered',
      (l) => l.originalSubject === S.stuck && l.payload.includes(envelope.data.jobId),
    );
    expect(letter.error.message).toContain(`maxHandlerMs (${MAX_HANDLER_MS} ms)`);
    stuckRelease.open();
    await finished.waitFor('the parked handler to end', (id) => id === envelope.data.jobId);
    const info = await settled(S.stuck);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(deliveries.items.filter((d) => d.jobId === envelope.data.jobId)).toHaveLength(1);
  });
});

describe('publish timeouts', () => {
  it('fails a publish nobody acknowledges with a clear timeout error after its attempts', async () => {
    // A subject no stream covers, with a core subscriber that never answers: the publish
    // request is delivered and then waits forever for an ack.
    const silentPrefix = uniquePrefix();
    const silent = await connectOrExplain({
      ...options('silent', { publishTimeoutMs: 200, publishAttempts: 2 }),
      subjectPrefix: silentPrefix,
    });
    const swallow = silent.nats.subscribe(`${silentPrefix}.>`);
    try {
      const error = await new JetStreamPublisher(silent).publish(command(S.long)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(PublishError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `publish to ${silentPrefix}\\.${S.long.replaceAll('.', '\\.')} failed after 2 attempt\\(s\\) of at most 200 ms each: .*timeout`,
          'i',
        ),
      );
    } finally {
      swallow.unsubscribe();
      await silent.drain();
    }
  });
});
