import { envelopeSchema } from '@roam/contracts';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '@roam/db';
import { z } from 'zod';

const isoTime = z.iso.datetime();

export const webhookViewSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()).describe('Event filters; empty = every event.'),
    description: z.string(),
    status: z
      .enum(['active', 'paused', 'disabled'])
      .describe(
        '`disabled` when deliveries kept failing (see `disabled_reason`); `resume` re-enables it.',
      ),
    disabled_reason: z.string().nullable(),
    failing_since: isoTime.nullable().describe('First failure of the current failing streak.'),
    previous_secret_expires_at: isoTime
      .nullable()
      .describe('After a rotation, until when the previous secret still signs.'),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Webhook' });
export type WebhookView = z.output<typeof webhookViewSchema>;

/** An endpoint as the API shows it: never its secrets. */
export function webhookView(endpoint: WebhookEndpoint): WebhookView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    failing_since: endpoint.failingSince?.toISOString() ?? null,
    previous_secret_expires_at:
      endpoint.previousSecret && endpoint.previousSecretExpiresAt
        ? endpoint.previousSecretExpiresAt.toISOString()
        : null,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}

export const webhookListSchema = z.object({ items: z.array(webhookViewSchema) });

/** `POST /api/v1/webhooks` and `rotate-secret`: the only answers that carry the secret. */
export const webhookWithSecretSchema = webhookViewSchema
  .extend({
    secret: z
      .string()
      .describe('The signing secret (`whsec_…`, Standard Webhooks). Shown only here; keep it.'),
  })
  .meta({ id: 'WebhookWithSecret' });

/** `POST /api/v1/webhooks/{id}/test`. */
export const webhookTestSchema = z.object({
  delivery_id: z.uuid().describe('Follow it in `GET /api/v1/webhooks/{id}/deliveries`.'),
  event_id: z.uuid(),
});

export const attemptViewSchema = z.object({
  attempted_at: isoTime,
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
  response_body: z.string().nullable().describe('The first bytes of the response body.'),
});
export type AttemptView = z.output<typeof attemptViewSchema>;

export function attemptView(attempt: WebhookAttempt): AttemptView {
  return {
    attempted_at: attempt.attemptedAt.toISOString(),
    duration_ms: attempt.durationMs,
    status_code: attempt.statusCode,
    error: attempt.error,
    response_body: attempt.responseBody,
  };
}

export const deliveryViewSchema = z
  .object({
    id: z.uuid().describe('The `webhook-id` header, the same on every attempt.'),
    endpoint_id: z.uuid().describe('The webhook endpoint it goes to.'),
    event_id: z.uuid(),
    event_type: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    next_attempt_at: isoTime.nullable(),
    last_attempt_at: isoTime.nullable(),
    created_at: isoTime,
    payload: envelopeSchema.describe('The event sent, as the body of every attempt.'),
    attempt_log: z.array(attemptViewSchema),
  })
  .meta({ id: 'WebhookDelivery' });
export type DeliveryView = z.output<typeof deliveryViewSchema>;

export function deliveryView(
  delivery: WebhookDelivery & { attemptsList?: WebhookAttempt[] },
): DeliveryView {
  return {
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at:
      delivery.status === 'pending' ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    last_attempt_at: delivery.lastAttemptAt?.toISOString() ?? null,
    created_at: delivery.createdAt.toISOString(),
    payload: delivery.payload as DeliveryView['payload'],
    attempt_log: (delivery.attemptsList ?? []).map(attemptView),
  };
}

/** `GET /api/v1/jobs/{id}/deliveries`. */
export const jobDeliveryListSchema = z
  .object({ items: z.array(deliveryViewSchema) })
  .meta({ id: 'JobWebhookDeliveries' });

export const deliveryPageSchema = z.object({
  items: z.array(deliveryViewSchema),
  next_cursor: z.uuid().nullable().describe('Pass as `cursor` for the next page; null at the end.'),
});
