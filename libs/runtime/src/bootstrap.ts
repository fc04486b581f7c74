import 'reflect-metadata';

import { type INestApplication, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  ConfigError,
  type Env,
  exitOnConfigError,
  loadConfig,
  natsConnectionSettings,
  type CommonConfig,
} from '@roam/config';
import { JetStreamConnection, JetStreamServer } from '@roam/messaging';
import {
  createLogger,
  httpTelemetry,
  initTelemetry,
  type Logger,
  NestPinoLogger,
  shutdownTelemetry,
} from '@roam/telemetry';
import type { z } from 'zod';

import { MetricsModule } from './metrics.controller.js';
import { ProblemDetailsFilter } from './problem.js';
import { RuntimeModule } from './runtime.module.js';
import { refuseNulInUrl, verifyJsonBody } from './unstorable.js';

export interface AppOptions<S extends z.ZodObject> {
  /** The app's name: log field, durable-consumer prefix, `source` of its messages. */
  name: string;
  schema: S;
  /** The app's own module (controllers, handlers, services). */
  module: Type<unknown>;
  /** Defaults to `process.env`; tests pass their own. */
  env?: Env;
}

export interface RoamApp<C> {
  app: INestApplication;
  config: C;
  logger: Logger;
  /** Base URL the HTTP server listens on. */
  url: string;
  close(): Promise<void>;
}

/**
 * Connections the kernel holds for an app that has not accepted them yet. Node's default (511)
 * overflowed under a submit burst: the gateway alone, offered 600 submits/s for 10 s
 * (`pnpm bench:submit --apps gateway --rate 600`), refused 560 of 6,000 (connect timeouts and
 * resets); with 4096 it accepted all 6,000, queueing them instead (p50 10 s).
 */
const LISTEN_BACKLOG = 4096;

type ListenWithBacklog = (port: number, host: string, backlog: number) => Promise<unknown>;

/**
 * Builds and starts one roam app: validated config, JSON logs, Postgres, JetStream (consumers
 * for the module's `@EventPattern` handlers), the outbox relay, health routes and problem+json
 * errors. Used by every `main.ts` and by tests that run apps in-process.
 */
export async function createRoamApp<S extends z.ZodObject>(
  options: AppOptions<S>,
): Promise<RoamApp<z.infer<S>>> {
  const config = loadConfig(
    options.name,
    options.schema,
    options.env ?? process.env,
  ) as z.infer<S> & CommonConfig;
  // Before anything that makes spans; a no-op when this process already has a provider.
  initTelemetry({
    app: options.name,
    serviceName: config.OTEL_SERVICE_NAME,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    tracesExporter: config.OTEL_TRACES_EXPORTER,
  });
  const logger = createLogger(options.name, config.LOG_LEVEL);
  const connection = new JetStreamConnection({
    servers: config.NATS_URL.split(','),
    name: options.name,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    maxDeliver: config.NATS_MAX_DELIVER,
    ackWaitMs: config.NATS_ACK_WAIT_MS,
    maxHandlerMs: config.NATS_MAX_HANDLER_MS,
    publishTimeoutMs: config.NATS_PUBLISH_TIMEOUT_MS,
    publishAttempts: config.NATS_PUBLISH_ATTEMPTS,
    logger: logger.child({ component: 'jetstream' }),
    ...natsConnectionSettings(options.name, config),
  });
  await connection.connect();
  await connection.ensureStreams();
  const server = new JetStreamServer(connection);

  @Module({
    imports: [
      RuntimeModule.forRoot({ app: options.name, config, logger, connection, consumers: server }),
      MetricsModule,
      options.module,
    ],
  })
  class RootModule {}

  const app = await NestFactory.create<NestExpressApplication>(RootModule, {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    // Throw instead of process.exit(1), so the cause reaches runApp's log (and a test's output).
    abortOnError: false,
  });
  app.use(refuseNulInUrl);
  // Nest's type leaves `verify` out (its `rawBody` setting installs one of its own); this app
  // does not set `rawBody`, so body-parser gets the option as given.
  const json = { limit: config.MAX_BODY_BYTES, verify: verifyJsonBody };
  app.useBodyParser('json', json);
  // After the body parser, whose stream callbacks would lose the request span's context.
  app.use(httpTelemetry());
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  app.disable('x-powered-by');
  // Responses carry tenants' bytes (result files, logs): a browser must not sniff them into HTML.
  app.use(
    (
      _request: unknown,
      response: { setHeader(name: string, value: string): void },
      next: () => void,
    ) => {
      response.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
  );
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  // Nest hands extra arguments on to Node's server.listen(port, host, backlog), which passes the
  // backlog to listen(2); the kernel caps it at net.core.somaxconn.
  const listen = app.listen.bind(app) as unknown as ListenWithBacklog;
  await listen(config.PORT, config.HOST, LISTEN_BACKLOG);
  const address = app.getHttpServer().address() as { port: number } | string;
  const port = typeof address === 'string' ? config.PORT : address.port;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info({ url }, `${options.name} listening`);
  return { app, config, logger, url, close: () => app.close() };
}

/**
 * `main.ts` of every app: start, or exit 78 naming every bad environment variable. SIGTERM and
 * SIGINT close the app (consumers drain, in-flight handlers finish, connections close) and exit
 * 0; if that takes longer than SHUTDOWN_TIMEOUT_MS the process exits 1 anyway.
 */
export async function runApp<S extends z.ZodObject>(options: AppOptions<S>): Promise<void> {
  const fatal = (msg: string, error: unknown) =>
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', app: options.name, msg, err: String(error), stack: (error as Error)?.stack })}\n`,
    );
  process.on('unhandledRejection', (reason) => fatal('unhandled rejection', reason));
  let running: RoamApp<z.infer<S>>;
  try {
    running = await createRoamApp(options);
  } catch (error) {
    if (error instanceof ConfigError) exitOnConfigError(error);
    fatal('failed to start', error);
    process.exit(1);
  }
  const { config, logger } = running as RoamApp<CommonConfig>;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running
      .close()
      .then(() => shutdownTelemetry())
      .then(
        () => {
          logger.info('stopped');
          logger.flush?.();
          process.exit(0);
        },
        (error: unknown) => {
          fatal('shutdown failed', error);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
