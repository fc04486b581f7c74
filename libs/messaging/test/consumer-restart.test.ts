import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import {
  createEnvelope,
  jobSubmitCommand,
  registryOf,
  type Envelope,
  type JobSubmitCommand,
} from '@roam/contracts';

import type { JetStreamConnection } from '../src/jetstream/connection.js';
import type { JetStreamOptions } from '../src/jetstream/options.js';
import { JetStreamPublisher } from '../src/jetstream/publisher.js';
import { durableName, JetStreamEventPattern, JetStreamServer } from '../src/jetstream/server.js';
import { connectOrExplain, natsUrl, Recorder, uniquePrefix } from './jetstream-harness.js';

const SUBJECT = 'roam.cmd.v1.test.restart';
const registry = registryOf({ [SUBJECT]: jobSubmitCommand });
const prefix = uniquePrefix();
const options = (name: string): JetStreamOptions => ({
  servers: natsUrl(),
  name,
  subjectPrefix: prefix,
  registry,
  ackWaitMs: 5000,
});

const handled = new Recorder<string>();

@Controller()
class Handlers {
  @JetStreamEventPattern(SUBJECT)
  handle(@Payload() envelope: Envelope<JobSubmitCommand>): void {
    handled.push(envelope.data.jobId);
  }
}

@Module({ controllers: [Handlers] })
class HandlersModule {}

let connection: JetStreamConnection;
let server: JetStreamServer;
let app: INestMicroservice;

const command = () =>
  createEnvelope(SUBJECT, { jobId: randomUUID() }, { tenantId: 'acme', source: 'test' });

/** Polls a condition (each round is a round trip or a tick of the server's own loop). */
async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
    await connection.nats.flush();
  }
}

beforeAll(async () => {
  connection = await connectOrExplain(options('restart-publisher'));
  server = new JetStreamServer(options('restarter'));
  app = await NestFactory.createMicroservice(HandlersModule as never, {
    strategy: server,
    logger: false,
  });
  await app.listen();
}, 30_000);

afterAll(async () => {
  await app?.close();
  if (connection?.isHealthy()) {
    for (const stream of ['commands', 'events', 'deadLetters'] as const) {
      await connection.manager.streams
        .delete(connection.options.subjects.streamName(stream))
        .catch(() => false);
    }
  }
  await connection?.drain();
}, 30_000);

describe('consumer loops', () => {
  it('report a consumer whose durable was deleted, recreate it and serve again', async () => {
    const durable = durableName('restarter', SUBJECT);
    expect(server.consumerHealth()).toEqual([
      { consumer: durable, up: true, restarts: 0, lastError: undefined },
    ]);
    expect(server.isHealthy()).toBe(true);

    await connection.manager.consumers.delete(
      connection.options.subjects.streamName('commands'),
      durable,
    );
    const reported = await until('the dead consumer to be reported', () =>
      server.consumerHealth().find((c) => c.restarts >= 1),
    );
    expect(reported.lastError).toEqual(expect.any(String));

    await until('the consumer to be back up', () => server.isHealthy());
    const info = await connection.manager.consumers.info(
      connection.options.subjects.streamName('commands'),
      durable,
    );
    expect(info.name).toBe(durable);
    const envelope = command();
    await new JetStreamPublisher(connection).publish(envelope);
    await handled.waitFor('a message after the restart', (id) => id === envelope.data.jobId);
  });
});
