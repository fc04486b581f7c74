import type { z } from 'zod';

import { actionEvent, actionExecuteCommand } from './actions.js';
import { pipelineFinishedEvent } from './dependencies.js';
import { jobCancelCommand, jobEvent, jobSubmitBatchCommand, jobSubmitCommand } from './jobs.js';
import { arrayFinishedEvent, groupFinishedEvent } from './groups.js';
import { type Subject, subjects } from './subjects.js';
import { tenantDeleteCommand, tenantEvent, tenantProvisionCommand } from './tenants.js';
import { webhookDisabledEvent, webhookTestEvent } from './webhooks.js';

export type { Subject } from './subjects.js';

const { job, tenant, webhook, action, group, array, pipeline } = subjects;

/**
 * Every subject roam publishes, with the schema of its `data`. Publisher and consumer parse
 * with the same entry; JSON Schemas for external subscribers are generated from it. The
 * mapping is total: a subject without a schema, or a schema for no subject, does not compile.
 */
export const messages = {
  [job.submit]: jobSubmitCommand,
  [job.submitBatch]: jobSubmitBatchCommand,
  [job.cancel]: jobCancelCommand,
  [job.submitted]: jobEvent,
  [job.queued]: jobEvent,
  [job.admitted]: jobEvent,
  [job.started]: jobEvent,
  [job.succeeded]: jobEvent,
  [job.failed]: jobEvent,
  [job.cancelled]: jobEvent,
  [job.offloaded]: jobEvent,
  [job.retried]: jobEvent,
  [job.preempted]: jobEvent,
  [job.restarted]: jobEvent,
  [tenant.provision]: tenantProvisionCommand,
  [tenant.delete]: tenantDeleteCommand,
  [tenant.created]: tenantEvent,
  [tenant.ready]: tenantEvent,
  [tenant.failed]: tenantEvent,
  [tenant.deleted]: tenantEvent,
  [webhook.test]: webhookTestEvent,
  [webhook.disabled]: webhookDisabledEvent,
  [group.finished]: groupFinishedEvent,
  [array.finished]: arrayFinishedEvent,
  [pipeline.finished]: pipelineFinishedEvent,
  [action.execute]: actionExecuteCommand,
  [action.requested]: actionEvent,
  [action.started]: actionEvent,
  [action.succeeded]: actionEvent,
  [action.failed]: actionEvent,
} as const satisfies Record<Subject, z.ZodType>;

export type MessageData<S extends Subject> = z.infer<(typeof messages)[S]>;

/** A lookup from subject to data schema; tests register their own. */
export interface MessageRegistry {
  schemaFor(subject: string): z.ZodType | undefined;
}

export function registryOf(entries: Record<string, z.ZodType>): MessageRegistry {
  return { schemaFor: (subject) => entries[subject] };
}

export const defaultRegistry: MessageRegistry = registryOf(messages);
