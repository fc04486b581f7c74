import 'reflect-metadata';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { connect } from '@nats-io/transport-node';
import { createEnvelope, registryOf, subjects, type Envelope } from '@roam/contracts';
import { z } from 'zod';

import { busApps, busRoles, type BusApp } from '../src/accounts.js';
import { JetStreamConnection } from '../src/jetstream/connection.js';
import { JetStreamExceptionFilter } from '../src/jetstream/exception-filter.js';
import type { JetStreamOptions } from '../src/jetstream/options.js';
import { JetStreamPublisher } from '../src/jetstream/publisher.js';
import { JetStreamEventPattern, JetStreamServer } from '../src/jetstream/server.js';
import { Recorder } from './jetstream-harness.js';
import { startAuthNatsServer, type AuthNatsServer } from './nats-server.js';

// A port of this suite's own: the server runs with roam's generated authorization.
const PORT = 21411;

const everySubject = Object.values(subjects).flatMap((area) => Object.values(area));
// Payloads are not what this suite checks: any data passes.
const registry = registryOf(Object.fromEntries(everySubject.map((s) => [s, z.unknown()])));

let server: AuthNatsServer;
const opened: JetStreamConnection[] = [];
const apps: INestMicroservice[] = [];
const received = new Recorder<{ app: BusApp; type: string; id: string }>();

const optionsOf = (app: BusApp, password?: string): JetStreamOptions => ({
  servers: server.url,
  name: app,
  registry,
  credentials: { user: app, password: password ?? server.passwords[app] },
});

async function connectAs(app: BusApp): Promise<JetStreamConnection> {
  const connection = new JetStreamConnection(optionsOf(app));
  opened.push(connection);
  await connection.connect();
  return connection;
}

/** A Nest module with one handler per subject the app consumes, each recording what it got. */
function handlersOf(app: BusApp): unknown {
  class Handlers {}
  busRoles[app].consumes.forEach((subject, index) => {
    const key = `on${index}`;
    Object.defineProperty(Handlers.prototype, key, {
      value(envelope: Envelope) {
        received.push({ app, type: envelope.type, id: envelope.id });
      },
      writable: true,
      configurable: true,
    });
    Payload()(Handlers.prototype, key, 0);
    const descriptor = Object.getOwnPropertyDescriptor(Handlers.prototype, key)!;
    JetStreamEventPattern(subject)(Handlers.prototype, key, descriptor);
  });
  Controller()(Handlers);
  class HandlersModule {}
  Module({ controllers: [Handlers] })(HandlersModule);
  return HandlersModule;
}

const envelopeOf = (type: string): Envelope =>
  createEnvelope(type, {}, { tenantId: 'acme', source: 'accounts-test' });

/** The app that owns a subject in the table (the first that publishes it). */
function publisherOf(subject: string): BusApp {
  const app = busApps.find((a) => (busRoles[a].publishes as readonly string[]).includes(subject));
  if (!app) throw new Error(`nobody publishes ${subject}`);
  return app;
}

beforeAll(async () => {
  server = await startAuthNatsServer(PORT);
  // Every app's user may create the streams: each process ensures them at boot.
  await (await connectAs('storage')).ensureStreams();
  for (const app of busApps) {
    if (busRoles[app].consumes.length === 0) continue;
    const transport = new JetStreamServer(optionsOf(app));
    const microservice = await NestFactory.createMicroservice(handlersOf(app) as never, {
      strategy: transport,
      logger: false,
    });
    microservice.useGlobalFilters(new JetStreamExceptionFilter());
    await microservice.listen();
    apps.push(microservice);
  }
}, 60_000);

afterAll(async () => {
  for (const app of apps) await app.close();
  for (const connection of opened) await connection.drain();
  await server?.stop();
}, 30_000);

describe('per-app NATS users', () => {
  it('let every app ensure the streams with its own user', async () => {
    for (const app of busApps) {
      const connection = await connectAs(app);
      await expect(connection.ensureStreams()).resolves.toBeUndefined();
    }
  });

  it("deliver every consumed subject, published by its owner's user, to each consumer", async () => {
    const publishers = new Map<BusApp, JetStreamPublisher>();
    for (const app of busApps) {
      for (const pattern of busRoles[app].consumes) {
        const subject: string = pattern.endsWith('>') ? subjects.job.succeeded : pattern;
        const owner = publisherOf(subject);
        let publisher = publishers.get(owner);
        if (!publisher) {
          publisher = new JetStreamPublisher(await connectAs(owner));
          publishers.set(owner, publisher);
        }
        const envelope = envelopeOf(subject);
        await publisher.publish(envelope);
        await received.waitFor(
          `${app} receiving ${subject}`,
          (r) => r.id === envelope.id && r.app === app,
        );
      }
    }
  });

  it('refuse a subject the app does not own', async () => {
    const scheduler = new JetStreamPublisher(await connectAs('scheduler'));
    await expect(scheduler.publish(envelopeOf(subjects.job.succeeded))).rejects.toThrow(
      /permission/i,
    );
    await expect(scheduler.publish(envelopeOf(subjects.webhook.disabled))).rejects.toThrow(
      /permission/i,
    );
    const storage = new JetStreamPublisher(await connectAs('storage'));
    await expect(storage.publish(envelopeOf(subjects.job.failed))).rejects.toThrow(/permission/i);
  });

  it("refuse a subscription to another app's subjects or inbox", async () => {
    const connection = await connectAs('scheduler');
    for (const subject of ['roam.evt.>', '_INBOX.>', '_INBOX_notifier.>']) {
      const sub = connection.nats.subscribe(subject);
      await expect(sub.closed).resolves.toBeInstanceOf(Error);
    }
  });

  it('refuse an anonymous client and a wrong password', async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(
      /authorization/i,
    );
    const wrong = new JetStreamConnection(optionsOf('notifier', 'not-the-password'));
    await expect(wrong.connect()).rejects.toThrow(/authorization/i);
  });
});
