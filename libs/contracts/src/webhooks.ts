import { z } from 'zod';

import { EVENT_TYPE_PREFIX } from './subjects.js';

/** Data of `roam.evt.v1.webhook.test`: sent to one endpoint on request, never fanned out. */
export const webhookTestEvent = z.object({
  endpointId: z.uuid(),
  message: z.string(),
});
export type WebhookTestEvent = z.infer<typeof webhookTestEvent>;

/**
 * Data of `roam.evt.v1.webhook.disabled`: roam stopped delivering to an endpoint (it answered
 * 410 Gone, or kept failing for longer than the notifier's limit). Resume it to re-enable.
 */
export const webhookDisabledEvent = z.object({
  endpointId: z.uuid(),
  url: z.string(),
  reason: z.enum(['gone', 'failing']),
  message: z.string(),
  failingSince: z.iso.datetime({ offset: true }).nullish(),
});
export type WebhookDisabledEvent = z.infer<typeof webhookDisabledEvent>;

/** `roam.evt.v1.job.succeeded` → `job.succeeded` (what SSE `event:` and webhook filters use). */
export function shortEventType(type: string): string {
  return type.startsWith(EVENT_TYPE_PREFIX) ? type.slice(EVENT_TYPE_PREFIX.length) : type;
}

/** `job.succeeded` or `roam.evt.v1.job.succeeded` → `roam.evt.v1.job.succeeded`. */
export function fullEventType(type: string): string {
  return type.startsWith(EVENT_TYPE_PREFIX) ? type : `${EVENT_TYPE_PREFIX}${type}`;
}
