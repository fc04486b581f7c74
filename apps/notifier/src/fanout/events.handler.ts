import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, shortEventType, subjects, wildcards } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import { Batcher } from '../delivery/batcher.js';
import { DeliveriesRepository, type FanOutEvent } from '../delivery/deliveries.repository.js';
import { DeliveryLoop } from '../delivery/delivery.loop.js';

/**
 * Every roam event, through one wildcard durable consumer: fan out to the tenant's subscribed
 * endpoints, then ack. Safe to run twice (see `DeliveriesRepository.fanOut`).
 */
@Controller()
export class EventsHandler {
  /**
   * Events handled together (the consumer runs several at once) are fanned out in one
   * statement; each message is still acked only after its batch is committed.
   */
  private readonly batch: Batcher<FanOutEvent>;

  constructor(
    private readonly repository: DeliveriesRepository,
    private readonly loop: DeliveryLoop,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.batch = new Batcher(async (events) => {
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
    await this.batch.add({
      id: envelope.id,
      tenantId: envelope.tenantId,
      type: envelope.type,
      shortType: shortEventType(envelope.type),
      time: new Date(envelope.time),
      envelope,
    });
  }
}
