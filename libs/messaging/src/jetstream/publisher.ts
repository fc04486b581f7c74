import { setTimeout as delay } from 'node:timers/promises';

import type { PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { Envelope } from '@roam/contracts';
import { currentTraceparent, metrics } from '@roam/telemetry';

import type { JetStreamConnection } from './connection.js';
import { checkEnvelope } from './envelope.js';

export interface PublishOptions {
  headers?: Record<string, string>;
}

export interface PublishResult {
  seq: number;
  /** True when the stream already held a message with this envelope id (dedupe). */
  duplicate: boolean;
}

const encoder = new TextEncoder();

/** A publish that got no ack from the stream within its attempts (timeouts included). */
export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/**
 * Publishes envelopes to JetStream with the envelope id as `Nats-Msg-Id`, so republishing
 * (an outbox retry after a crash, say) is deduplicated by the stream.
 */
export class JetStreamPublisher {
  constructor(private readonly connection: JetStreamConnection) {}

  /** Throws on an envelope that fails its schema: that is a bug in the caller, not bad input. */
  async publish(envelope: Envelope, options: PublishOptions = {}): Promise<PublishResult> {
    const { registry, subjects } = this.connection.options;
    const check = checkEnvelope(envelope, envelope.type, registry);
    if (!check.ok)
      throw new Error(`refusing to publish ${envelope.type} ${envelope.id}: ${check.error}`);
    await this.connection.connect();
    const h = natsHeaders();
    for (const [key, value] of Object.entries(options.headers ?? {})) h.set(key, value);
    // The envelope's trace context (stamped by the outbox), else the caller's active span.
    const traceparent = envelope.traceparent ?? currentTraceparent();
    if (traceparent && !h.has('traceparent')) h.set('traceparent', traceparent);
    // Publish what the caller gave (not zod's parsed copy) so the payload is byte-for-byte theirs.
    const ack = await this.publishWithRetry(
      subjects.toWire(envelope.type),
      encoder.encode(JSON.stringify(envelope)),
      envelope.id,
      h,
    );
    metrics.messagesPublished.inc({ subject: envelope.type });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Each attempt waits at most `publishTimeoutMs` for the stream's ack; a failed attempt is
   * retried (`publishAttempts` in all, short doubling pause) — safe, because the stream drops
   * a second copy with the same `Nats-Msg-Id`. The last error names the subject and the budget.
   */
  private async publishWithRetry(
    wireSubject: string,
    data: Uint8Array,
    msgID: string,
    headers: MsgHdrs,
  ): Promise<PubAck> {
    const { publishTimeoutMs, publishAttempts } = this.connection.options;
    let last: unknown;
    for (let attempt = 1; attempt <= publishAttempts; attempt += 1) {
      try {
        return await this.connection.client.publish(wireSubject, data, {
          msgID,
          headers,
          timeout: publishTimeoutMs,
        });
      } catch (err) {
        last = err;
        if (attempt < publishAttempts) await delay(Math.min(100 * 2 ** (attempt - 1), 2000));
      }
    }
    const reason = last instanceof Error ? last.message : String(last);
    throw new PublishError(
      `publish to ${wireSubject} failed after ${publishAttempts} attempt(s) of at most ${publishTimeoutMs} ms each: ${reason}`,
      { cause: last },
    );
  }

  /**
   * Publishes with up to `maxInFlight` unacknowledged publishes at once, results in input
   * order. Rejects with the first failure after every started publish has settled.
   */
  async publishMany(
    envelopes: readonly Envelope[],
    options: PublishOptions & { maxInFlight?: number } = {},
  ): Promise<PublishResult[]> {
    const maxInFlight = Math.max(1, options.maxInFlight ?? 256);
    const results = new Array<PublishResult>(envelopes.length);
    let next = 0;
    let failure: Error | undefined;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < envelopes.length) {
        const index = next++;
        try {
          results[index] = await this.publish(envelopes[index]!, options);
        } catch (err) {
          failure ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxInFlight, envelopes.length) }, worker));
    if (failure !== undefined) throw failure;
    return results;
  }
}
