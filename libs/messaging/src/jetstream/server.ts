import { setTimeout as delay } from 'node:timers/promises';

import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import type { LoggerService } from '@nestjs/common';
import {
  EventPattern,
  Server,
  type CustomTransportStrategy,
  type MessageHandler,
} from '@nestjs/microservices';
import { streamOf } from '@roam/contracts';
import { metrics } from '@roam/telemetry';
import { isObservable, lastValueFrom } from 'rxjs';

import { isNotFound, JetStreamConnection } from './connection.js';
import { asError } from './dead-letter.js';
import type { JetStreamContext } from './context.js';
import { resolveOptions, type JetStreamLogger, type JetStreamOptions } from './options.js';
import { MessageProcessor, type ConsumerBinding, type InvokeHandler } from './processor.js';

/** Transport id: pass it to `@EventPattern(subject, JETSTREAM_TRANSPORT)` to pin a handler in a hybrid app. */
export const JETSTREAM_TRANSPORT = Symbol.for('roam.jetstream');

/**
 * Extra deliveries the server allows beyond `maxDeliver`, so a message whose last attempt
 * timed out, or whose dead letter failed to publish, comes back once more to be
 * dead-lettered instead of being silently parked by the server.
 */
const DEAD_LETTER_MARGIN = 3;
const MS_TO_NS = 1_000_000;

/** What one handler may set for its own consumer (`@JetStreamEventPattern(subject, options)`). */
export interface ConsumerOptions {
  /**
   * Messages of this consumer in flight at once (pulled and handled together), instead of the
   * transport's `concurrency`. A handler that batches its work (one statement for every message
   * handled together) takes more, so each pull, statement and flush of acks serves more messages.
   */
  concurrency?: number;
  /**
   * `false`: check the envelope and that the subject has a registered schema, but not `data`
   * against it, for a handler that never reads `data` (the notifier delivers the event as
   * committed in Postgres, found by the envelope's id). Default true.
   */
  validateData?: boolean;
}

/**
 * `@EventPattern` for this transport. Nest 12's typed `@EventPattern(literal)` overload
 * rejects a handler whose second parameter is typed (`@Ctx() ctx: JetStreamContext`); this
 * wrapper avoids it and pins the handler to JetStream in a hybrid app.
 */
export function JetStreamEventPattern(
  subject: string,
  options: ConsumerOptions = {},
): MethodDecorator {
  return EventPattern<string>(subject, JETSTREAM_TRANSPORT, { ...options });
}

/** `name` + subject, made a legal durable name: `scheduler_roam_cmd_v1_job_submit`. */
export function durableName(appName: string, subject: string): string {
  const safe = subject
    .replaceAll('*', 'STAR')
    .replaceAll('>', 'ALL')
    .replace(/[^A-Za-z0-9_-]/g, '_');
  return `${appName}_${safe}`;
}

class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

function nestLogger(logger: LoggerService): JetStreamLogger {
  const line = (msg: string, obj: object): string => `${msg} ${JSON.stringify(obj)}`;
  return {
    info: (obj, msg) => {
      logger.log(line(msg, obj), 'JetStreamServer');
    },
    warn: (obj, msg) => {
      logger.warn(line(msg, obj), 'JetStreamServer');
    },
    error: (obj, msg) => {
      logger.error(line(msg, obj), undefined, 'JetStreamServer');
    },
  };
}

/**
 * Nest custom transport over JetStream. Each `@EventPattern(subject)` gets its own durable
 * pull consumer (`name` + subject), so handlers never share a queue and one slow or failing
 * handler never holds up another. The server awaits every handler itself — Nest's base
 * class would not, and would ack a failed message — and only then acks or naks.
 */
export type JetStreamServerStatus = 'connected' | 'closing' | 'draining' | 'closed';

/** One durable consumer's loop, as readiness and `roam_consumer_up` report it. */
export interface ConsumerHealth {
  consumer: string;
  /** The loop is pulling messages; false while it waits to restart. */
  up: boolean;
  /** Times the loop died and was restarted since boot. */
  restarts: number;
  lastError: string | undefined;
}

/** First wait before restarting a dead consumer loop; doubles per failure in a row. */
const RESTART_BACKOFF_MS = 250;
const RESTART_BACKOFF_CAP_MS = 30_000;
/** A loop that ran this long before dying starts its backoff from the beginning again. */
const STABLE_RUN_MS = 60_000;

export class JetStreamServer
  extends Server<Record<string, never>, JetStreamServerStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = JETSTREAM_TRANSPORT;
  readonly connection: JetStreamConnection;
  private readonly ownsConnection: boolean;
  private readonly processor: MessageProcessor;
  private readonly subscriptions = new Set<ConsumerMessages>();
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly consumers = new Map<string, ConsumerHealth>();
  private readonly stopping = new AbortController();
  private closing = false;

  /**
   * Pass a `JetStreamConnection` to share one NATS connection with a publisher; the server
   * then leaves draining it to its owner. Given options, it opens and drains its own.
   */
  constructor(options: JetStreamOptions | JetStreamConnection) {
    super();
    this.ownsConnection = !(options instanceof JetStreamConnection);
    this.connection =
      options instanceof JetStreamConnection
        ? options
        : new JetStreamConnection(resolveOptions(options, nestLogger(this.logger)));
    this.processor = new MessageProcessor(this.connection);
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.start().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  /** For readiness: the connection is up and every consumer loop is pulling. */
  isHealthy(): boolean {
    return (
      !this.closing &&
      this.connection.isHealthy() &&
      [...this.consumers.values()].every((consumer) => consumer.up)
    );
  }

  /** Every consumer loop of this server, for readiness. */
  consumerHealth(): ConsumerHealth[] {
    return [...this.consumers.values()].map((consumer) => ({ ...consumer }));
  }

  private async start(): Promise<void> {
    await this.connection.ensureStreams();
    const bindings = [...this.messageHandlers].map(([pattern, handler]) =>
      this.bind(pattern, handler),
    );
    for (const binding of bindings) await this.ensureConsumer(binding);
    for (const binding of bindings) {
      const messages = await this.open(binding);
      this.consumers.set(binding.durable, {
        consumer: binding.durable,
        up: true,
        restarts: 0,
        lastError: undefined,
      });
      metrics.consumerUp.set({ consumer: binding.durable }, 1);
      this.loops.push(this.supervise(binding, messages));
    }
    this._status$.next('connected');
    this.connection.options.logger.info(
      { consumers: bindings.map((b) => b.durable) },
      'jetstream server listening',
    );
  }

  /** Checks a registered pattern up front: a handler that could never be served is a boot error. */
  private bind(pattern: string, handler: MessageHandler): ConsumerBinding {
    const { name, registry } = this.connection.options;
    if (!handler.isEventHandler) {
      throw new Error(
        `JetStream transport serves @EventPattern only; "${pattern}" is a @MessagePattern (request/response)`,
      );
    }
    const wildcard = pattern.includes('*') || pattern.includes('>');
    if (!wildcard && !registry.schemaFor(pattern)) {
      throw new Error(
        `no schema registered for "${pattern}": every message would be dead-lettered`,
      );
    }
    const options = (handler.extras ?? {}) as ConsumerOptions;
    const concurrency = options.concurrency ?? this.connection.options.concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(
        `consumer option "concurrency" of "${pattern}" must be a positive integer, got ${concurrency}`,
      );
    }
    const stream = this.connection.options.subjects.streamName(streamOf(pattern));
    return {
      pattern,
      stream,
      durable: durableName(name, pattern),
      invoke: this.invoker(handler),
      concurrency,
      validateData: options.validateData ?? true,
    };
  }

  private async ensureConsumer(binding: ConsumerBinding): Promise<void> {
    const { maxDeliver, ackWaitMs, subjects } = this.connection.options;
    const jsm = this.connection.manager;
    const mutable: Partial<ConsumerConfig> = {
      ack_wait: ackWaitMs * MS_TO_NS,
      max_deliver: maxDeliver + DEAD_LETTER_MARGIN,
      max_ack_pending: Math.max(1000, binding.concurrency * 4),
    };
    try {
      await jsm.consumers.info(binding.stream, binding.durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(binding.stream, {
        ...mutable,
        durable_name: binding.durable,
        filter_subject: subjects.toWire(binding.pattern),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      return;
    }
    await jsm.consumers.update(binding.stream, binding.durable, mutable);
  }

  /** Calls Nest's handler and waits for its promise or observable, surfacing its failure. */
  private invoker(handler: MessageHandler): InvokeHandler {
    return (envelope, ctx) =>
      this.withProcessingHooks(ctx, async () => {
        const result: unknown = await handler(envelope, ctx);
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      });
  }

  /** Keeps Nest's processing hooks (tracing instrumentation) around the awaited handler. */
  private withProcessingHooks(ctx: JetStreamContext, run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const runEndHook = this.createProcessingEndHookRunner(ctx);
      const done = async (): Promise<void> => {
        try {
          await run();
          resolve();
        } catch (err) {
          reject(asError(err));
        } finally {
          runEndHook();
        }
      };
      try {
        void this.onProcessingStartHook(this.transportId, ctx, done);
      } catch (err) {
        reject(asError(err));
      }
    });
  }

  private async open(binding: ConsumerBinding): Promise<ConsumerMessages> {
    const consumer = await this.connection.client.consumers.get(binding.stream, binding.durable);
    // Abort, rather than wait forever, when the consumer or stream disappears: the supervisor
    // then recreates it. Left to itself the client would wait for someone else to restore it.
    const messages = await consumer.consume({
      max_messages: binding.concurrency,
      abort_on_missing_resource: true,
    });
    this.subscriptions.add(messages);
    return messages;
  }

  /**
   * Keeps one consumer loop alive: when its iterator fails or ends while the server is open,
   * the loop is reported down, and after a doubling backoff the durable consumer is recreated
   * if it is gone and pulling starts again.
   */
  private async supervise(binding: ConsumerBinding, first: ConsumerMessages): Promise<void> {
    const health = this.consumers.get(binding.durable)!;
    const labels = { consumer: binding.durable };
    let messages: ConsumerMessages | undefined = first;
    let failures = 0;
    while (!this.closing) {
      let startedAt = Date.now();
      try {
        if (!messages) {
          await this.ensureConsumer(binding);
          messages = await this.open(binding);
          startedAt = Date.now();
          health.up = true;
          metrics.consumerUp.set(labels, 1);
          this.connection.options.logger.info(
            { consumer: binding.durable, restarts: health.restarts },
            'consumer restarted',
          );
        }
        await this.run(binding, messages);
        if (this.closing) return;
        throw new Error('the message iterator ended');
      } catch (err) {
        if (this.closing) return;
        if (messages) {
          this.subscriptions.delete(messages);
          messages.stop();
        }
        messages = undefined;
        failures = Date.now() - startedAt >= STABLE_RUN_MS ? 1 : failures + 1;
        const retryInMs = Math.min(
          RESTART_BACKOFF_MS * 2 ** (failures - 1),
          RESTART_BACKOFF_CAP_MS,
        );
        health.up = false;
        health.restarts += 1;
        health.lastError = asError(err).message;
        metrics.consumerUp.set(labels, 0);
        metrics.consumerRestarts.inc(labels);
        this.connection.options.logger.error(
          { consumer: binding.durable, error: health.lastError, retryInMs },
          'consumer stopped; restarting',
        );
        await delay(retryInMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  /** Pulls until the iterator ends (returns) or fails (throws). */
  private async run(binding: ConsumerBinding, messages: ConsumerMessages): Promise<void> {
    const slots = new Slots(binding.concurrency);
    for await (const msg of messages) {
      if (!this.closing) await slots.acquire();
      if (this.closing) {
        // Buffered but not started: hand it straight back for another replica.
        msg.nak();
        continue;
      }
      const task: Promise<void> = this.processor
        .process(msg, binding)
        .catch((err: unknown) => {
          this.connection.options.logger.error(
            { consumer: binding.durable, error: String(err) },
            'message processing failed',
          );
        })
        .finally(() => {
          slots.release();
          this.inFlight.delete(task);
        });
      this.inFlight.add(task);
    }
  }

  /**
   * Stops pulling, lets in-flight handlers finish and settle their messages, then drains.
   * `status` reports `closing` (stopping consumers), `draining` (waiting for in-flight
   * handlers), then `closed`.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this._status$.next('closing');
    this.stopping.abort();
    await Promise.all([...this.subscriptions].map((m) => m.close()));
    await Promise.all(this.loops);
    this._status$.next('draining');
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    if (this.ownsConnection) await this.connection.drain();
    this._status$.next('closed');
  }

  on(event: string, _callback: unknown): never {
    throw new Error(
      `JetStreamServer does not emit "${event}"; use isHealthy() or the connection's status`,
    );
  }

  unwrap<T>(): T {
    return this.connection.nats as T;
  }
}
