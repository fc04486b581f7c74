import { metrics } from '@roam/telemetry';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type NotifierConfig, SecretBox, SecretBoxError } from '@roam/config';
import { createEnvelope, subjects } from '@roam/contracts';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import { webhookHeaders, webhookSecretContext } from '@roam/webhooks';
import type { Logger } from 'pino';

import { SOURCE } from '../source.js';
import { Batcher } from './batcher.js';
import { type ClaimedDelivery, DeliveriesRepository } from './deliveries.repository.js';
import { decideAfterAttempt } from './policy.js';
import type { WebhookResponse, WebhookSender } from './sender.js';

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');

/**
 * Claims due deliveries and POSTs them, with at most WEBHOOK_MAX_CONCURRENCY requests in
 * flight in total and WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT per endpoint, so a slow or dead
 * endpoint only ever holds its own slots (each bounded by the timeout). It runs on a short
 * timer and is woken at once by the fan-out and whenever a slot frees up.
 */
@Injectable()
export class DeliveryLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly inFlight = new Map<string, number>();
  private readonly tasks = new Set<Promise<void>>();
  private total = 0;
  private readonly loop: Loop;
  private readonly leaseMs: number;
  private readonly successes: Batcher<{ deliveryId: string; response: WebhookResponse }>;

  constructor(
    private readonly repository: DeliveriesRepository,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: NotifierConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly box: SecretBox,
  ) {
    // Long enough for one attempt to time out and be recorded; a dead notifier's claim
    // comes due again after this.
    this.leaseMs = config.WEBHOOK_TIMEOUT_MS * 2 + 1000;
    // First-time successes, the common case, are recorded together (one statement each turn).
    this.successes = new Batcher((items) => this.repository.recordSuccesses(items));
    this.loop = new Loop({
      name: 'webhook claim',
      intervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
      runAtStart: true,
      logger,
      pass: () => this.claimPass(),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    // In-flight attempts finish (bounded by the timeout) and are recorded before exit.
    await Promise.all([...this.tasks]);
  }

  /** Something may be due now (new deliveries, a freed slot). */
  wake(): void {
    this.loop.wake();
  }

  private async claimPass(): Promise<void> {
    const claimed = await this.claimAndStart();
    // A full batch means more may be due: go again at once if there is room.
    if (claimed > 0 && this.total < this.config.WEBHOOK_MAX_CONCURRENCY) this.loop.wake();
  }

  private async claimAndStart(): Promise<number> {
    const limit = this.config.WEBHOOK_MAX_CONCURRENCY - this.total;
    if (limit <= 0) return 0;
    const perEndpoint = this.config.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT;
    const partial = new Map<string, number>();
    for (const [endpointId, count] of this.inFlight) partial.set(endpointId, perEndpoint - count);
    const deliveries = await this.repository.claim({
      limit,
      perEndpoint,
      partial,
      leaseMs: this.leaseMs,
    });
    for (const delivery of deliveries) this.start(delivery);
    return deliveries.length;
  }

  private start(delivery: ClaimedDelivery): void {
    this.total += 1;
    this.inFlight.set(delivery.endpointId, (this.inFlight.get(delivery.endpointId) ?? 0) + 1);
    const task = this.attempt(delivery)
      .catch((error: unknown) => {
        if (error instanceof SecretBoxError) {
          // Not sent: the lease runs out and it is tried again once the key is configured.
          this.logger.error(
            { err: error, deliveryId: delivery.id, endpointId: delivery.endpointId },
            'webhook secret cannot be decrypted: check ROAM_SECRETS_KEYS',
          );
          return;
        }
        // The lease runs out and the delivery is tried again: nothing is lost.
        this.logger.error(
          { err: error, deliveryId: delivery.id, tenantId: delivery.tenantId },
          'webhook attempt could not be recorded',
        );
      })
      .finally(() => {
        this.total -= 1;
        const left = (this.inFlight.get(delivery.endpointId) ?? 1) - 1;
        if (left <= 0) this.inFlight.delete(delivery.endpointId);
        else this.inFlight.set(delivery.endpointId, left);
        this.tasks.delete(task);
        this.wake();
      });
    this.tasks.add(task);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const now = new Date();
    const body = JSON.stringify(delivery.payload);
    // Stored sealed (docs/security.md, "Secrets at rest"); opened only to sign.
    const context = webhookSecretContext(delivery.endpointId);
    const secrets = [this.box.open(delivery.secret, context)];
    if (
      delivery.previousSecret &&
      delivery.previousSecretExpiresAt &&
      delivery.previousSecretExpiresAt > now
    ) {
      secrets.push(this.box.open(delivery.previousSecret, context));
    }
    const headers = webhookHeaders(secrets, {
      id: delivery.id,
      timestamp: Math.floor(now.getTime() / 1000),
      body,
    });
    const response = await this.sender.send({ url: delivery.url, headers, body });
    await this.record(delivery, response);
  }

  private async record(delivery: ClaimedDelivery, response: WebhookResponse): Promise<void> {
    const result =
      response.statusCode === undefined ? 'error' : `${Math.floor(response.statusCode / 100)}xx`;
    metrics.webhookDeliveries.inc({ result });
    metrics.webhookDeliveryDuration.observe({ result }, response.durationMs / 1000);
    const attempts = delivery.attempts + 1;
    const now = new Date();
    const decision = decideAfterAttempt({
      outcome: response.statusCode === undefined ? {} : { statusCode: response.statusCode },
      attempts,
      failingSince: delivery.failingSince,
      now,
      retryScale: this.config.WEBHOOK_RETRY_SCALE,
      disableAfterMs: this.config.WEBHOOK_DISABLE_AFTER_HOURS * 3600_000,
    });
    const log = {
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      tenantId: delivery.tenantId,
      eventType: delivery.eventType,
      attempt: attempts,
      statusCode: response.statusCode,
      error: response.error,
      responseBody: response.body?.slice(0, 200),
      durationMs: response.durationMs,
    };
    if (decision.delivery.status === 'succeeded' && delivery.failingSince === null) {
      await this.successes.add({ deliveryId: delivery.id, response });
      this.logger.debug(log, 'webhook delivered');
      return;
    }
    await this.outbox.transaction(async (tx) => {
      const status = decision.delivery.status;
      await this.repository.recordAttempt(tx, delivery.id, response, {
        status,
        nextAttemptAt:
          decision.delivery.status === 'pending' ? decision.delivery.nextAttemptAt : null,
      });
      const change = decision.endpoint;
      switch (change.kind) {
        case 'healthy':
          await this.repository.markEndpointHealthy(tx, delivery.endpointId);
          return { result: undefined, messages: [] };
        case 'failing':
          await this.repository.markEndpointFailing(tx, delivery.endpointId, change.since);
          return { result: undefined, messages: [] };
        case 'disable': {
          const message =
            change.reason === 'gone'
              ? `the endpoint answered 410 Gone`
              : `the endpoint has been failing since ${change.since.toISOString()}`;
          const disabled = await this.repository.disableEndpoint(
            tx,
            delivery.endpointId,
            message,
            change.since,
          );
          if (!disabled) return { result: undefined, messages: [] };
          this.logger.warn({ ...log, reason: change.reason }, 'webhook endpoint disabled');
          return {
            result: undefined,
            messages: [
              createEnvelope(
                subjects.webhook.disabled,
                {
                  endpointId: disabled.id,
                  url: disabled.url,
                  reason: change.reason,
                  message,
                  failingSince: change.since.toISOString(),
                },
                { source: SOURCE, tenantId: disabled.tenantId, subject: `webhooks/${disabled.id}` },
              ),
            ],
          };
        }
      }
    });
    if (decision.delivery.status === 'succeeded') this.logger.debug(log, 'webhook delivered');
    else this.logger.info({ ...log, status: decision.delivery.status }, 'webhook attempt failed');
  }
}
