import type { JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { Envelope } from '@roam/contracts';
import {
  contextFromTraceparent,
  failSpan,
  metrics,
  secondsSince,
  SpanKind,
  withSpan,
} from '@roam/telemetry';

import type { JetStreamConnection } from './connection.js';
import { headersToRecord, JetStreamContext } from './context.js';
import { describeError, encodePayload, type DeadLetter } from './dead-letter.js';
import { checkEnvelope } from './envelope.js';
import { backoffFor } from './options.js';

/** Runs the user's handler and settles only when it has really finished (or failed). */
export type InvokeHandler = (envelope: Envelope, ctx: JetStreamContext) => Promise<void>;

/** One `@EventPattern` bound to its durable consumer. */
export interface ConsumerBinding {
  pattern: string;
  stream: string;
  durable: string;
  invoke: InvokeHandler;
  /** Messages in flight at once on this consumer. */
  concurrency: number;
  /** Check `data` against the subject's schema (false: the handler never reads it). */
  validateData: boolean;
}

/** How a delivery was settled: the `outcome` label of `roam_messages_handled_total`. */
export type Outcome = 'ack' | 'nak' | 'dead_letter';

type HandlerResult = { kind: 'done' } | { kind: 'failed'; error: unknown } | { kind: 'overran' };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Decides the fate of one delivered message: ack after the handler succeeds, nak with
 * backoff after it fails, dead-letter and term when it is malformed or out of attempts.
 * Never throws: a failure here must not stop the consumer loop.
 */
export class MessageProcessor {
  constructor(private readonly connection: JetStreamConnection) {}

  async process(msg: JsMsg, binding: ConsumerBinding): Promise<void> {
    const started = performance.now();
    const subject = this.connection.options.subjects.fromWire(msg.subject);
    if (msg.info.deliveryCount > 1) metrics.messageRedeliveries.inc({ subject });
    const outcome = await this.settle(msg, binding, subject);
    metrics.messagesHandled.inc({ subject, outcome });
    metrics.messageHandleDuration.observe({ subject, outcome }, secondsSince(started));
  }

  private async settle(msg: JsMsg, binding: ConsumerBinding, subject: string): Promise<Outcome> {
    const { registry, maxDeliver, logger } = this.connection.options;
    const deliveries = msg.info.deliveryCount;

    let decoded: unknown;
    try {
      decoded = JSON.parse(strictUtf8.decode(msg.data));
    } catch (err) {
      return this.deadLetter(msg, binding, subject, {
        message: `payload is not JSON: ${(err as Error).message}`,
      });
    }
    const check = checkEnvelope(decoded, subject, registry, { data: binding.validateData });
    if (!check.ok) return this.deadLetter(msg, binding, subject, { message: check.error });
    const envelope = check.envelope;
    const log = {
      subject,
      consumer: binding.durable,
      messageId: envelope.id,
      tenantId: envelope.tenantId,
      deliveries,
    };

    // Only reachable when the last attempt timed out (ack wait) or its dead letter failed to
    // publish: the handler has had its tries, so finish the dead-lettering.
    if (deliveries > maxDeliver) {
      return this.deadLetter(msg, binding, subject, {
        message: `delivery ${deliveries} exceeds maxDeliver ${maxDeliver}: the last attempt timed out or was not dead-lettered`,
      });
    }

    const headers = headersToRecord(msg.headers);
    const ctx = new JetStreamContext({
      subject,
      deliveryCount: deliveries,
      messageId: headers['Nats-Msg-Id'],
      headers,
      traceparent: headers.traceparent ?? envelope.traceparent,
      consumer: binding.durable,
      message: msg,
    });

    // The handler runs in a CONSUMER span, child of the message's trace context, so its
    // Kubernetes calls and the messages it writes to the outbox continue the same trace.
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': subject,
      'messaging.consumer.group.name': binding.durable,
      'messaging.message.id': envelope.id,
      'messaging.message.delivery_count': deliveries,
      ...(envelope.tenantId ? { 'roam.tenant_id': envelope.tenantId } : {}),
    };
    return withSpan(
      `process ${subject}`,
      { kind: SpanKind.CONSUMER, attributes, parent: contextFromTraceparent(ctx.traceparent) },
      async (span) => {
        let outcome: Outcome;
        const running = Promise.resolve().then(() => binding.invoke(envelope, ctx));
        const result = await this.supervise(msg, running);
        if (result.kind === 'overran') {
          const { maxHandlerMs } = this.connection.options;
          const message = `handler still running after maxHandlerMs (${maxHandlerMs} ms): parked, not retried`;
          logger.error({ ...log, maxHandlerMs }, message);
          failSpan(span, new Error(message));
          outcome = await this.deadLetter(msg, binding, subject, { message });
          span.setAttribute('roam.outcome', outcome);
          // Keep the slot until the handler really ends, so overrunning handlers cannot pile up.
          const late = await running.then(
            () => 'succeeded',
            (err: unknown) => `failed: ${describeError(err).message}`,
          );
          logger.warn({ ...log, result: late }, 'parked handler finished late');
          return outcome;
        }
        if (result.kind === 'failed') {
          failSpan(span, result.error);
          const error = describeError(result.error);
          if (deliveries >= maxDeliver) {
            logger.error(
              { ...log, error: error.message },
              'handler failed for the last time, dead-lettering',
            );
            outcome = await this.deadLetter(msg, binding, subject, error);
          } else {
            const delay = backoffFor(this.connection.options.backoffMs, deliveries);
            logger.warn(
              { ...log, error: error.message, retryInMs: delay },
              'handler failed, will retry',
            );
            msg.nak(delay);
            outcome = 'nak';
          }
          span.setAttribute('roam.outcome', outcome);
          return outcome;
        }
        msg.ack();
        span.setAttribute('roam.outcome', 'ack');
        return 'ack';
      },
    );
  }

  /**
   * Waits for the handler while keeping its message in progress: `working()` every
   * `heartbeatMs` (a third of the ack wait) resets the server's redelivery timer, so a long
   * handler is never delivered a second time while it runs. Gives up waiting at `maxHandlerMs`.
   */
  private async supervise(msg: JsMsg, running: Promise<void>): Promise<HandlerResult> {
    const { heartbeatMs, maxHandlerMs } = this.connection.options;
    const heartbeat = setInterval(() => {
      try {
        msg.working();
      } catch {
        // The connection is closing; the message will be redelivered to another replica.
      }
    }, heartbeatMs);
    let deadline: NodeJS.Timeout | undefined;
    const overran = new Promise<HandlerResult>((resolve) => {
      deadline = setTimeout(() => resolve({ kind: 'overran' }), maxHandlerMs);
    });
    try {
      return await Promise.race([
        running.then(
          (): HandlerResult => ({ kind: 'done' }),
          (error: unknown): HandlerResult => ({ kind: 'failed', error }),
        ),
        overran,
      ]);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(deadline);
    }
  }

  /**
   * Publishes the dead letter, then terms the message. If the dead letter cannot be
   * published the message is nakked instead, so it is retried rather than lost; the
   * `Nats-Msg-Id` keeps a retried dead letter from being stored twice.
   */
  private async deadLetter(
    msg: JsMsg,
    binding: ConsumerBinding,
    subject: string,
    error: DeadLetter['error'],
  ): Promise<Outcome> {
    const { subjects, logger, backoffMs } = this.connection.options;
    const headers = headersToRecord(msg.headers);
    const letter: DeadLetter = {
      originalSubject: subject,
      consumer: binding.durable,
      deliveries: msg.info.deliveryCount,
      error,
      failedAt: new Date().toISOString(),
      headers,
      ...encodePayload(msg.data),
    };
    const h = natsHeaders();
    if (headers.traceparent) h.set('traceparent', headers.traceparent);
    try {
      await this.connection.client.publish(
        subjects.deadLetterWire(subject),
        encoder.encode(JSON.stringify(letter)),
        {
          msgID: `dlq:${msg.info.stream}:${msg.info.streamSequence}:${binding.durable}`,
          headers: h,
          timeout: this.connection.options.publishTimeoutMs,
        },
      );
    } catch (err) {
      logger.error(
        { subject, consumer: binding.durable, error: (err as Error).message },
        'dead letter publish failed, will retry',
      );
      msg.nak(backoffFor(backoffMs, msg.info.deliveryCount));
      return 'nak';
    }
    logger.warn(
      { subject, consumer: binding.durable, deliveries: letter.deliveries, error: error.message },
      'message dead-lettered',
    );
    // A plain +TERM: NATS 2.9 does not recognise `+TERM <reason>` and ignores it, so the
    // message would come back after the ack wait. The reason travels in the dead letter.
    msg.term();
    metrics.deadLetters.inc({ subject });
    return 'dead_letter';
  }
}
