import type { z } from 'zod';

import { actionEvent, actionExecuteCommand } from './actions.js';
import { jobCancelCommand, jobEvent, jobSubmitBatchCommand, jobSubmitCommand } from './jobs.js';
import { tenantDeleteCommand, tenantEvent, tenantProvisionCommand } from './tenants.js';
import { webhookDisabledEvent, webhookTestEvent } from './webhooks.js';

/**
 * Every subject roam publishes, with the schema of its `data`. Publisher and consumer parse
 * with the same entry; JSON Schemas for external subscribers are generated from it.
 */
export const messages = {
  'roam.cmd.v1.job.submit': jobSubmitCommand,
  'roam.cmd.v1.job.submitBatch': jobSubmitBatchCommand,
  'roam.cmd.v1.job.cancel': jobCancelCommand,
  'roam.evt.v1.job.submitted': jobEvent,
  'roam.evt.v1.job.queued': jobEvent,
  'roam.evt.v1.job.admitted': jobEvent,
  'roam.evt.v1.job.started': jobEvent,
  'roam.evt.v1.job.succeeded': jobEvent,
  'roam.evt.v1.job.failed': jobEvent,
  'roam.evt.v1.job.cancelled': jobEvent,
  'roam.evt.v1.job.offloaded': jobEvent,
  'roam.evt.v1.job.retried': jobEvent,
  'roam.cmd.v1.tenant.provision': tenantProvisionCommand,
  'roam.cmd.v1.tenant.delete': tenantDeleteCommand,
  'roam.evt.v1.tenant.created': tenantEvent,
  'roam.evt.v1.tenant.ready': tenantEvent,
  'roam.evt.v1.tenant.failed': tenantEvent,
  'roam.evt.v1.tenant.deleted': tenantEvent,
  'roam.evt.v1.webhook.test': webhookTestEvent,
  'roam.evt.v1.webhook.disabled': webhookDisabledEvent,
  'roam.cmd.v1.action.execute': actionExecuteCommand,
  'roam.evt.v1.action.requested': actionEvent,
  'roam.evt.v1.action.started': actionEvent,
  'roam.evt.v1.action.succeeded': actionEvent,
  'roam.evt.v1.action.failed': actionEvent,
} as const satisfies Record<string, z.ZodType>;

export type Subject = keyof typeof messages;
export type MessageData<S extends Subject> = z.infer<(typeof messages)[S]>;

/** A lookup from subject to data schema; tests register their own. */
export interface MessageRegistry {
  schemaFor(subject: string): z.ZodType | undefined;
}

export function registryOf(entries: Record<string, z.ZodType>): MessageRegistry {
  return { schemaFor: (subject) => entries[subject] };
}

export const defaultRegistry: MessageRegistry = registryOf(messages);

export const subjects = {
  job: {
    submit: 'roam.cmd.v1.job.submit',
    submitBatch: 'roam.cmd.v1.job.submitBatch',
    cancel: 'roam.cmd.v1.job.cancel',
    submitted: 'roam.evt.v1.job.submitted',
    queued: 'roam.evt.v1.job.queued',
    admitted: 'roam.evt.v1.job.admitted',
    started: 'roam.evt.v1.job.started',
    succeeded: 'roam.evt.v1.job.succeeded',
    failed: 'roam.evt.v1.job.failed',
    cancelled: 'roam.evt.v1.job.cancelled',
    offloaded: 'roam.evt.v1.job.offloaded',
    retried: 'roam.evt.v1.job.retried',
  },
  tenant: {
    provision: 'roam.cmd.v1.tenant.provision',
    delete: 'roam.cmd.v1.tenant.delete',
    created: 'roam.evt.v1.tenant.created',
    ready: 'roam.evt.v1.tenant.ready',
    failed: 'roam.evt.v1.tenant.failed',
    deleted: 'roam.evt.v1.tenant.deleted',
  },
} as const satisfies Record<string, Record<string, Subject>>;
