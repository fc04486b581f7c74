import { Inject, Injectable } from '@nestjs/common';
import { type GatewayConfig, SecretBox } from '@roam/config';
import { createEnvelope, type Envelope, subjects, type WebhookTestEvent } from '@roam/contracts';
import type { Prisma, WebhookEndpoint } from '@roam/db';
import { uuidv7 } from '@roam/domain';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';
import {
  checkWebhookUrl,
  DestinationError,
  type DestinationPolicy,
  generateWebhookSecret,
  parseDestinationPolicy,
  webhookSecretContext,
} from '@roam/webhooks';

import { SOURCE } from '../source.js';
import type {
  CreateWebhook,
  ListDeliveries,
  RotateSecret,
  UpdateWebhook,
} from './webhook.schemas.js';
import { WebhooksRepository } from './webhooks.repository.js';

export const webhookNotFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `webhook ${id} not found`);

function invalidUrl(error: DestinationError): ProblemError {
  return new ProblemError(
    400,
    problemTypes.validation,
    'Request validation failed',
    `body: url: ${error.message}`,
    {
      errors: [{ path: 'url', message: error.message }],
    },
  );
}

@Injectable()
export class WebhooksService {
  private readonly policy: DestinationPolicy;

  constructor(
    private readonly repository: WebhooksRepository,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly box: SecretBox,
  ) {
    this.policy = parseDestinationPolicy(config.WEBHOOK_ALLOWED_HOSTS);
  }

  /** Checked here and again by the notifier at each delivery (the DNS answer may change). */
  private async checkUrl(url: string): Promise<string> {
    try {
      return (await checkWebhookUrl(url, this.policy)).toString();
    } catch (error) {
      if (error instanceof DestinationError) throw invalidUrl(error);
      throw error;
    }
  }

  /**
   * The secret is returned here and by `rotateSecret` only; the row holds it sealed
   * (docs/security.md, "Secrets at rest").
   */
  async create(
    tenantId: string,
    body: CreateWebhook,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = await this.checkUrl(body.url);
    const secret = generateWebhookSecret();
    const id = uuidv7();
    const endpoint = await this.repository.create(
      {
        id,
        tenantId,
        url,
        events: [...new Set(body.events)],
        description: body.description,
        secret: this.box.seal(secret, webhookSecretContext(id)),
      },
      this.config.MAX_WEBHOOKS_PER_TENANT,
    );
    return { endpoint, secret };
  }

  list(tenantId: string): Promise<WebhookEndpoint[]> {
    return this.repository.list(tenantId);
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.repository.find(tenantId, id);
    if (!endpoint) throw webhookNotFound(id);
    return endpoint;
  }

  async update(tenantId: string, id: string, body: UpdateWebhook): Promise<WebhookEndpoint> {
    const data: Prisma.WebhookEndpointUpdateManyMutationInput = {};
    if (body.url !== undefined) data.url = await this.checkUrl(body.url);
    if (body.events !== undefined) data.events = [...new Set(body.events)];
    if (body.description !== undefined) data.description = body.description;
    return (await this.repository.update(tenantId, id, data)) ?? this.get(tenantId, id);
  }

  async pause(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const paused = await this.repository.update(
      tenantId,
      id,
      { status: 'paused' },
      { status: 'active' },
    );
    return paused ?? this.get(tenantId, id);
  }

  /** Resumes a paused endpoint, or re-enables a disabled one with a clean failure record. */
  async resume(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const resumed = await this.repository.update(
      tenantId,
      id,
      { status: 'active', disabledReason: null, failingSince: null },
      { status: { in: ['paused', 'disabled'] } },
    );
    return resumed ?? this.get(tenantId, id);
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.repository.delete(tenantId, id))) throw webhookNotFound(id);
  }

  /**
   * A new secret signs from now on; the current one keeps signing too (a second signature)
   * until the grace period ends, so receivers can switch without losing a delivery.
   */
  async rotateSecret(
    tenantId: string,
    id: string,
    body: RotateSecret,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const current = await this.get(tenantId, id);
    const graceHours = body.grace_hours ?? this.config.WEBHOOK_SECRET_GRACE_HOURS;
    const secret = generateWebhookSecret();
    const endpoint = await this.repository.update(
      tenantId,
      id,
      {
        secret: this.box.seal(secret, webhookSecretContext(id)),
        // Still sealed as stored: the same endpoint, the same context.
        previousSecret: graceHours > 0 ? current.secret : null,
        previousSecretExpiresAt:
          graceHours > 0 ? new Date(Date.now() + graceHours * 3600_000) : null,
      },
      // Two rotations racing: only the one that saw the current secret wins.
      { secret: current.secret },
    );
    if (!endpoint) {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        'the secret was rotated concurrently; retry',
      );
    }
    return { endpoint, secret };
  }

  /** Queues a `webhook.test` event for this endpoint only (not logged as a tenant event). */
  async sendTest(
    tenantId: string,
    id: string,
  ): Promise<{ deliveryId: string; event: Envelope<WebhookTestEvent> }> {
    const endpoint = await this.get(tenantId, id);
    const event = createEnvelope<WebhookTestEvent>(
      subjects.webhook.test,
      { endpointId: endpoint.id, message: 'a test event sent from the roam API' },
      { source: SOURCE, tenantId, subject: `webhooks/${endpoint.id}` },
    );
    const deliveryId = uuidv7();
    await this.repository.createDelivery({
      id: deliveryId,
      endpointId: endpoint.id,
      tenantId,
      eventId: event.id,
      eventType: event.type,
      payload: event,
    });
    return { deliveryId, event };
  }

  async deliveries(tenantId: string, id: string, query: ListDeliveries) {
    await this.get(tenantId, id);
    return this.repository.deliveries(tenantId, id, query);
  }

  async jobDeliveries(tenantId: string, jobId: string, limit: number) {
    const rows = await this.repository.jobDeliveries(tenantId, jobId, limit);
    if (!rows)
      throw new ProblemError(404, problemTypes.notFound, 'Not found', `job ${jobId} not found`);
    return rows;
  }

  async redeliver(tenantId: string, id: string, deliveryId: string) {
    const delivery = await this.repository.redeliver(tenantId, id, deliveryId);
    if (!delivery) {
      throw new ProblemError(
        404,
        problemTypes.notFound,
        'Not found',
        `delivery ${deliveryId} not found`,
      );
    }
    return delivery;
  }
}
