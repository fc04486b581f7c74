import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, subjects, wildcards } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';
import { LOGGER } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

import { Batcher } from '../delivery/batcher.js';
import { DeliveriesRepository, type FanOutResult } from '../delivery/deliveries.repository.js';
import { DeliveryLoop } from '../delivery/delivery.loop.js';

/**
 * Every roam event, through one wildcard durable consumer: fan out to the tenant's subscribed
 * endpoints, then ack. Safe to run twice (see `DeliveriesRepository.fanOut`).
 *
 * The bus message is only a pointer: what is signed and delivered is the event as committed in
 * `events` (every event is written there with the state change that caused it, before it is
 * published), joined by id in the fan-out statement. A message whose id was never committed is
 * dropped, so whoever can publish on the bus cannot make roam sign a forged event for a tenant.
 */
/** Most events fanned out in one statement, and so most in flight on the consumer. */
const FAN_OUT_BATCH = 200;

@Controller()
export class EventsHandler {
  /**
   * Events handled together (the consumer runs several at once) are fanned out in one
   * statement; each message is still acked only after its batch is committed.
   */
  private readonly batch: Batcher<Envelope>;

  constructor(
    private readonly repository: DeliveriesRepository,
    private readonly loop: DeliveryLoop,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.batch = new Batcher(
      async (envelopes) => {
        const result = await this.repository.fanOut(
          envelopes.map((e) => ({ id: e.id, tenantId: e.tenantId ?? '', type: e.type })),
        );
        this.report(envelopes, result);
        if (result.created === 0) return;
        this.logger.debug(
          { events: envelopes.length, created: result.created },
          'webhook deliveries created',
        );
        this.loop.wake();
      },
      { max: FAN_OUT_BATCH },
    );
  }

  // As many in flight as one fan-out batch holds: each pull, fan-out statement and flush of
  // acks then serves up to that many events. `data` is not checked here: it is never read (what
  // is delivered is the committed event, joined by id).
  @JetStreamEventPattern(wildcards.eventsV1, { concurrency: FAN_OUT_BATCH, validateData: false })
  async onEvent(@Payload() envelope: Envelope): Promise<void> {
    // Events about no tenant (platform events) have no subscriber; test events are sent
    // directly to their one endpoint and never fanned out.
    if (!envelope.tenantId || envelope.type === subjects.webhook.test) return;
    await this.batch.add(envelope);
  }

  /** Bus messages that were never committed, or that differ from what was. */
  private report(envelopes: readonly Envelope[], result: FanOutResult): void {
    const byId = new Map(envelopes.map((e) => [e.id, e]));
    for (const id of result.unknown) {
      const envelope = byId.get(id);
      metrics.webhookUntrustedEvents.inc({ reason: 'unknown' });
      this.logger.warn(
        { eventId: id, tenantId: envelope?.tenantId, type: envelope?.type },
        'event on the bus was never committed; not delivered',
      );
    }
    for (const stored of result.altered) {
      const envelope = byId.get(stored.id);
      metrics.webhookUntrustedEvents.inc({ reason: 'altered' });
      this.logger.warn(
        {
          eventId: stored.id,
          tenantId: envelope?.tenantId,
          type: envelope?.type,
          storedTenantId: stored.tenantId,
          storedType: stored.type,
        },
        'event on the bus differs from the committed one; delivering the committed one',
      );
    }
  }
}
