import { Module } from '@nestjs/common';
import { type NotifierConfig, SecretBox, secretBoxFrom } from '@roam/config';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';
import { parseDestinationPolicy } from '@roam/webhooks';

import { DeliveriesRepository } from './delivery/deliveries.repository.js';
import { DeliveryLoop, WEBHOOK_SENDER } from './delivery/delivery.loop.js';
import { HttpWebhookSender } from './delivery/sender.js';
import { EventsHandler } from './fanout/events.handler.js';
import { HistoryRetention } from './retention/history-retention.js';

/**
 * The notifier: fans every tenant event out to the tenant's webhook endpoints
 * (`webhook_deliveries`), delivers them signed, with retries, per Standard Webhooks, and
 * deletes deliveries and events past their retention.
 */
@Module({
  controllers: [EventsHandler],
  providers: [
    DeliveriesRepository,
    DeliveryLoop,
    HistoryRetention,
    // Opens the sealed webhook secrets it signs with (docs/security.md, "Secrets at rest").
    {
      provide: SecretBox,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: NotifierConfig, logger: Logger) =>
        secretBoxFrom(config, (message) => logger.warn(message)),
    },
    {
      provide: WEBHOOK_SENDER,
      inject: [APP_CONFIG],
      useFactory: (config: NotifierConfig) =>
        new HttpWebhookSender(
          parseDestinationPolicy(config.WEBHOOK_ALLOWED_HOSTS),
          config.WEBHOOK_TIMEOUT_MS,
        ),
    },
  ],
})
export class NotifierModule {}
