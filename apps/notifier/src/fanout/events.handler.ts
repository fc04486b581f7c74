import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, shortEventType, subjects, wildcards } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';
import { LOGGER } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

import { Batcher } from '../delivery/batcher.js';
import { DeliveriesRepository, type FanOutEvent } from '../delivery/deliveries.repository.js';
import { DeliveryLoop } from '../delivery/delivery.loop.js';
import { StoredEventsRepository } from './stored-events.repository.js';

/**
 * Every roam event, through one wildcard durable consumer: fan out to the tenant's subscribed
 * endpoints, then ack. Safe to run twice (see `DeliveriesRepository.fanOut`).
 *
 * The bus message is only a pointer: what is signed and delivered is the event as committed in
 * `events` (every event is written there with the state change that caused it, before it is
 * published), looked up by id. A message whose id was never committed is dropped, so whoever
 * can publish on the bus cannot make roam sign a forged event for a tenant.
 */
@Controller()
export class EventsHandler {
  /**
   * Events handled together (the consumer runs several at once) are fanned out in one
   * statement; each message is still acked only after its batch is committed.
   */
  private readonly batch: Batcher<Envelope>;

  constructor(
    private readonly repository: DeliveriesRepository,
    private readonly stored: StoredEventsRepository,
    private readonly loop: DeliveryLoop,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.batch = new Batcher(async (envelopes) => {
      const events = await this.trusted(envelopes);
      const created = await this.repository.fanOut(events);
      if (created === 0) return;
      this.logger.debug({ events: events.length, created }, 'webhook deliveries created');
      this.loop.wake();
    });
  }

  @JetStreamEventPattern(wildcards.eventsV1)
  async onEvent(@Payload() envelope: Envelope): Promise<void> {
    // Events about no tenant (platform events) have no subscriber; test events are sent
    // directly to their one endpoint and never fanned out.
    if (!envelope.tenantId || envelope.type === subjects.webhook.test) return;
    await this.batch.add(envelope);
  }

  /** The committed version of each message's event; unknown ids are dropped. */
  private async trusted(envelopes: readonly Envelope[]): Promise<FanOutEvent[]> {
    const stored = await this.stored.byIds(envelopes.map((e) => e.id));
    const events: FanOutEvent[] = [];
    for (const envelope of envelopes) {
      const event = stored.get(envelope.id);
      const ids = { eventId: envelope.id, tenantId: envelope.tenantId, type: envelope.type };
      if (!event) {
        metrics.webhookUntrustedEvents.inc({ reason: 'unknown' });
        this.logger.warn(ids, 'event on the bus was never committed; not delivered');
        continue;
      }
      if (event.tenantId !== envelope.tenantId || event.type !== envelope.type) {
        metrics.webhookUntrustedEvents.inc({ reason: 'altered' });
        this.logger.warn(
          { ...ids, storedTenantId: event.tenantId, storedType: event.type },
          'event on the bus differs from the committed one; delivering the committed one',
        );
      }
      if (!event.tenantId || event.type === subjects.webhook.test) continue;
      events.push({
        id: event.id,
        tenantId: event.tenantId,
        type: event.type,
        shortType: shortEventType(event.type),
        time: event.time,
        envelope: event.envelope,
      });
    }
    return events;
  }
}
