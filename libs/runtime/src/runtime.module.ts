import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { CommonConfig } from '@roam/config';
import { createPrismaClient, type PrismaClient } from '@roam/db';
import {
  busRoles,
  isBusApp,
  JetStreamConnection,
  JetStreamPublisher,
  Outbox,
  OutboxRelay,
} from '@roam/messaging';
import type { Logger } from 'pino';

import {
  CONSUMER_HEALTH,
  type ConsumerHealthSource,
  HealthController,
  HealthService,
} from './health.controller.js';
import { Loop } from './loop.js';
import { APP_CONFIG, APP_NAME, LOGGER, PRISMA } from './tokens.js';

export interface RuntimeContext {
  app: string;
  config: CommonConfig;
  logger: Logger;
  connection: JetStreamConnection;
  /** The app's JetStream server, whose consumer loops readiness reports. */
  consumers?: ConsumerHealthSource;
}

/** Starts the outbox relay after boot and closes every connection on shutdown, in order. */
@Injectable()
class RuntimeLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly connection: JetStreamConnection,
  ) {}

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.connection.drain();
    await this.prisma.$disconnect();
  }
}

/**
 * What every roam app shares: config, logger, Prisma, the JetStream connection and publisher,
 * the transactional outbox with its relay, and the health routes.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(context: RuntimeContext): DynamicModule {
    const { config, logger, connection } = context;
    return {
      module: RuntimeModule,
      imports: [DiscoveryModule],
      controllers: [HealthController],
      providers: [
        { provide: CONSUMER_HEALTH, useValue: context.consumers ?? null },
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_NAME, useValue: context.app },
        { provide: LOGGER, useValue: logger },
        {
          provide: PRISMA,
          useFactory: () =>
            createPrismaClient({
              databaseUrl: config.DATABASE_URL,
              poolSize: config.DATABASE_POOL_SIZE,
              applicationName: `roam-${context.app}`,
            }),
        },
        { provide: JetStreamConnection, useValue: connection },
        {
          provide: JetStreamPublisher,
          useFactory: () => new JetStreamPublisher(connection),
        },
        {
          provide: Outbox,
          inject: [PRISMA, JetStreamPublisher],
          useFactory: (prisma: PrismaClient, publisher: JetStreamPublisher) =>
            new Outbox(prisma, publisher, logger.child({ component: 'outbox' }), {
              maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
              // With per-app NATS users, a row another app wrote is not ours to publish.
              relaySubjects:
                connection.options.credentials && isBusApp(context.app)
                  ? busRoles[context.app].publishes
                  : undefined,
            }),
        },
        {
          provide: OutboxRelay,
          inject: [Outbox],
          useFactory: (outbox: Outbox) =>
            new OutboxRelay(
              outbox,
              (pass) =>
                new Loop({
                  name: 'outbox relay pass',
                  intervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
                  logger: logger.child({ component: 'outbox-relay' }),
                  pass,
                }),
            ),
        },
        HealthService,
        RuntimeLifecycle,
      ],
      exports: [
        APP_CONFIG,
        APP_NAME,
        LOGGER,
        PRISMA,
        JetStreamConnection,
        JetStreamPublisher,
        Outbox,
        HealthService,
      ],
    };
  }
}
