import { headers as natsHeaders } from '@nats-io/transport-node';
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
    const ack = await this.connection.client.publish(
      subjects.toWire(envelope.type),
      encoder.encode(JSON.stringify(envelope)),
      {
        msgID: envelope.id,
        headers: h,
      },
    );
    metrics.messagesPublished.inc({ subject: envelope.type });
    return { seq: ack.seq, duplicate: ack.duplicate };
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
