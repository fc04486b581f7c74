import { EVENT_TYPE_PREFIX, messages, shortEventType } from '@roam/contracts';
import { z } from 'zod';

/** Short names of every public event type (`job.succeeded`, `tenant.ready`, …). */
export const eventTypeNames: readonly string[] = Object.keys(messages)
  .filter((subject) => subject.startsWith(EVENT_TYPE_PREFIX))
  .map(shortEventType);
const areas = new Set(eventTypeNames.map((name) => `${name.split('.')[0]}.*`));

/**
 * An event filter entry: a short type (`job.succeeded`), a full one (normalised to short), an
 * area wildcard (`job.*`) or `*`. Unknown names are rejected so a typo is not a silent never.
 */
export const eventFilter = z
  .string()
  .transform(shortEventType)
  .refine((name) => name === '*' || areas.has(name) || eventTypeNames.includes(name), {
    message: `must be an event type such as job.succeeded, an area such as job.*, or *`,
  });

const url = z.string().min(1).max(2048);

export const createWebhookSchema = z
  .object({
    url,
    /** Empty or absent = every event. */
    events: z.array(eventFilter).max(64).default([]),
    description: z.string().max(500).default(''),
  })
  .strict();
export type CreateWebhook = z.output<typeof createWebhookSchema>;

export const updateWebhookSchema = z
  .object({
    url: url.optional(),
    events: z.array(eventFilter).max(64).optional(),
    description: z.string().max(500).optional(),
  })
  .strict();
export type UpdateWebhook = z.output<typeof updateWebhookSchema>;

export const rotateSecretSchema = z
  .object({
    /** How long the previous secret still signs; default WEBHOOK_SECRET_GRACE_HOURS. */
    grace_hours: z
      .number()
      .min(0)
      .max(24 * 30)
      .optional(),
  })
  .strict()
  .default({});
export type RotateSecret = z.output<typeof rotateSecretSchema>;

export const listDeliveriesQuery = z
  .object({
    status: z.enum(['pending', 'succeeded', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** Id of the last delivery of the previous page. */
    cursor: z.uuid().optional(),
  })
  .strict();
export type ListDeliveries = z.output<typeof listDeliveriesQuery>;

export const jobDeliveriesQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(200).default(50) })
  .strict();
export type JobDeliveries = z.output<typeof jobDeliveriesQuery>;

export const webhookIdParam = z.uuid('must be a webhook id (UUID)');
export const deliveryIdParam = z.uuid('must be a delivery id (UUID)');
