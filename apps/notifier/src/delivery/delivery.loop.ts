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
 * How long a first-time success waits for others to be recorded with. Nobody waits on that
 * record (the endpoint has its answer, the slot is free again), and deliveries finish at the
 * rate they are created, so without it a burst recorded one or two per statement.
 */
const SUCCESS_RECORD_LINGER_MS = 50;

/**
 * Claims due deliveries and POSTs them, with at most WEBHOOK_MAX_CONCURRENCY requests in
 * flight in total and WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT per endpoint, so a slow or dead
 * endpoint only ever holds its own slots (each bounded by the timeout). It runs on a short
 * timer and is woken at once by the fan-out and whenever an endpoint has nothing left queued.
 *
 * A claim takes up to one round more than the free slots (per endpoint and in total): those
 * wait here, and a freed slot starts the next one without a claim statement of its own. The
 * lease covers the wait (at most one attempt) and the attempt; a queued delivery whose lease
 * could run out during its attempt is left to a later claim instead.
 */
@Injectable()
export class DeliveryLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly inFlight = new Map<string, number>();
  /** Claimed, not started yet, by endpoint in claim order; `claimedAt` bounds their wait. */
  private readonly queued = new Map<string, { delivery: ClaimedDelivery; claimedAt: number }[]>();
  private queuedTotal = 0;
  private stopping = false;
  private readonly tasks = new Set<Promise<void>>();
  private total = 0;
  private readonly loop: Loop;
  private readonly leaseMs: number;
  private readonly latestStartMs: number;
  private readonly successes: Batcher<{ deliveryId: string; response: WebhookResponse }>;

  constructor(
    private readonly repository: DeliveriesRepository,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: NotifierConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly box: SecretBox,
  ) {
    // Long enough to wait for one attempt (claimed ahead), then for its own to time out and be
    // recorded; a dead notifier's claim comes due again after this.
    this.leaseMs = config.WEBHOOK_TIMEOUT_MS * 3 + 1000;
    // A queued delivery starts within one timeout of its claim or not at all, so its attempt
    // ends, and is recorded, well inside the lease: no other notifier takes it over meanwhile.
    // (A success is recorded within the linger of its batch, while the database keeps up; when
    // it does not, claims wait for it: see `claimAndStart`.)
    this.latestStartMs = config.WEBHOOK_TIMEOUT_MS;
    // First-time successes, the common case, are recorded together: one statement at a time,
    // holding what finishes meanwhile (and within the linger) for the next.
    this.successes = new Batcher(
      (items) =>
        this.repository.recordSuccesses(items).catch((error: unknown) => {
          // One line for the batch (each of its adds is rejected too, and says nothing more).
          this.logger.error(
            {
              err: error,
              deliveries: items.length,
              deliveryIds: items.slice(0, 10).map((item) => item.deliveryId),
            },
            'webhook successes could not be recorded: each is sent again once its lease ends',
          );
          throw error;
        }),
      { lingerMs: SUCCESS_RECORD_LINGER_MS },
    );
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
    this.stopping = true;
    await this.loop.stop();
    // Claimed but not started: due again at once for another notifier, not after the lease.
    // Only claims still young enough to start are ours to release (see latestStartMs).
    const now = Date.now();
    const unstarted = [...this.queued.values()].flatMap((queue) =>
      queue.filter((q) => now - q.claimedAt <= this.latestStartMs).map((q) => q.delivery.id),
    );
    this.queued.clear();
    this.queuedTotal = 0;
    await this.repository.release(unstarted).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not release queued webhook deliveries');
    });
    // In-flight attempts finish (bounded by the timeout) and are recorded before exit.
    await Promise.all([...this.tasks]);
    await this.successes.settled();
  }

  /** Something may be due now (new deliveries, a freed slot). */
  wake(): void {
    this.loop.wake();
  }

  private async claimPass(): Promise<void> {
    const { claimed, limit } = await this.claimAndStart();
    // A full batch means more may be due: go again at once. Fewer than asked means every
    // endpoint got all it may take (an endpoint is claimed for again once its queue runs dry).
    if (claimed > 0 && claimed >= limit) this.loop.wake();
  }

  private async claimAndStart(): Promise<{ claimed: number; limit: number }> {
    // Slots in flight, and as many again claimed ahead. Successes not recorded yet count too:
    // while the database is slow to take them, no more is claimed (and sent) than it keeps up with.
    const limit =
      this.config.WEBHOOK_MAX_CONCURRENCY * 2 -
      this.total -
      this.queuedTotal -
      this.successes.pending;
    if (limit <= 0) return { claimed: 0, limit };
    const perEndpoint = this.config.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT * 2;
    const partial = new Map<string, number>();
    for (const endpointId of new Set([...this.inFlight.keys(), ...this.queued.keys()])) {
      const held =
        (this.inFlight.get(endpointId) ?? 0) + (this.queued.get(endpointId)?.length ?? 0);
      partial.set(endpointId, perEndpoint - held);
    }
    const claimedAt = Date.now();
    const deliveries = await this.repository.claim({
      limit,
      perEndpoint,
      partial,
      leaseMs: this.leaseMs,
    });
    for (const delivery of deliveries) {
      const queue = this.queued.get(delivery.endpointId);
      if (queue) queue.push({ delivery, claimedAt });
      else this.queued.set(delivery.endpointId, [{ delivery, claimedAt }]);
    }
    this.queuedTotal += deliveries.length;
    this.pump();
    return { claimed: deliveries.length, limit };
  }

  /**
   * Starts queued deliveries while there are free slots, one endpoint after the other (one
   * each per round, as the claim ranks them), and drops any whose lease is too short for an
   * attempt: a later claim takes it again once the lease has run out.
   */
  private pump(): void {
    if (this.stopping) return;
    const max = this.config.WEBHOOK_MAX_CONCURRENCY;
    const perEndpoint = this.config.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT;
    let started = true;
    while (started && this.total < max && this.queued.size > 0) {
      started = false;
      for (const [endpointId, queue] of this.queued) {
        if (this.total >= max) break;
        if ((this.inFlight.get(endpointId) ?? 0) >= perEndpoint) continue;
        const next = queue.shift()!;
        this.queuedTotal -= 1;
        if (queue.length === 0) this.queued.delete(endpointId);
        if (Date.now() - next.claimedAt > this.latestStartMs) {
          this.logger.debug(
            { deliveryId: next.delivery.id, endpointId },
            'queued webhook delivery left to a later claim: its lease is too short for an attempt',
          );
        } else this.start(next.delivery);
        started = true;
      }
    }
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
        this.pump();
        // Claim again when this endpoint has nothing left queued (others are woken by the
        // fan-out, their own completions or the timer).
        if (!this.queued.has(delivery.endpointId)) this.wake();
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
      // Recorded in the background: the endpoint's slot is free once it has answered. Should
      // the record fail (logged once per batch) or the process die first, the lease runs out
      // and the delivery is sent again: at least once, as always.
      this.successes.add({ deliveryId: delivery.id, response }).catch(() => undefined);
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
