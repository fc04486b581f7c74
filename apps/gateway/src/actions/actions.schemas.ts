import { actionState, actionTypes } from '@roam/contracts';
import { missingFields } from '@roam/domain';
import { z } from 'zod';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Client-chosen action id (the failover controller: optional, generated when absent); also a URL path segment. */
export const actionId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'letters, digits and . _ : @ - only');

/**
 * The failover controller's `POST /actions` body, field for field. Which of `node_pool` / `jobset_name` is
 * required depends on `type` (REQUIRED_FIELDS in @roam/domain); a missing one is a 400 naming it.
 * `preflight_checks.expected_node_counts`: true = derive the expected node count from the
 * pool's TPU topology labels, a number = expect exactly that many nodes, false = no check.
 */
export const actionRequestSchema = z
  .object({
    id: actionId.optional(),
    dry_run: z.boolean().default(false),
    requestor: z.string().trim().min(1).max(200),
    reason: z.string().trim().min(1).max(2000),
    type: z.enum(actionTypes),
    namespace: z
      .string()
      .max(63)
      .regex(dns1123Label, 'must be a Kubernetes namespace name')
      .default('default'),
    jobset_name: z
      .string()
      .max(253)
      .regex(dns1123Subdomain, 'must be a Kubernetes object name')
      .optional(),
    node_pool: z.string().max(100).regex(dns1123Label, 'must be a node pool name').optional(),
    node_name: z
      .string()
      .max(253)
      .regex(dns1123Subdomain, 'must be a Kubernetes node name')
      .optional(),
    preflight_checks: z
      .object({ expected_node_counts: z.union([z.boolean(), z.number().int().min(1)]).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    for (const field of missingFields(body.type, body))
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} is required for ${body.type}`,
      });
  })
  .meta({ id: 'ActionRequest' });
export type ActionRequest = z.output<typeof actionRequestSchema>;

export const submitQuery = z
  .object({
    wait: z.coerce
      .number()
      .min(0)
      .max(120)
      .default(30)
      .describe(
        'Seconds to wait for the action to finish before answering 202 (0 = answer at once).',
      ),
  })
  .strict();
export type SubmitQuery = z.output<typeof submitQuery>;

/** The failover controller's response: the id, and `error` when the action failed. */
export const actionResponseSchema = z
  .object({ id: z.string(), error: z.string().optional() })
  .meta({ id: 'ActionResponse' });
export type ActionResponse = z.infer<typeof actionResponseSchema>;

export const listActionsQuery = z
  .object({
    type: z.enum(actionTypes).optional(),
    node_pool: z.string().min(1).optional(),
    requestor: z.string().min(1).optional(),
    state: actionState.optional(),
    since: z.iso.datetime({ offset: true }).optional().describe('Created at or after.'),
    until: z.iso.datetime({ offset: true }).optional().describe('Created before.'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).optional().describe('`next_cursor` of the previous page.'),
  })
  .strict();
export type ListActionsQuery = z.output<typeof listActionsQuery>;

const isoTime = z.iso.datetime();

export const actionStepViewSchema = z.object({
  index: z.number().int(),
  name: z.string(),
  state: actionState,
  detail: z.unknown(),
  error: z.string().nullable(),
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
});

export const actionViewSchema = z
  .object({
    id: z.string(),
    type: z.enum(actionTypes),
    state: actionState,
    dry_run: z.boolean(),
    requestor: z.string(),
    reason: z.string(),
    node_pool: z.string().nullable(),
    namespace: z.string().nullable(),
    jobset_name: z.string().nullable(),
    node_name: z.string().nullable(),
    request: z.unknown(),
    plan: z.unknown().describe('What the action does (or, for a dry run, would do).'),
    outcome: z.unknown(),
    error: z.string().nullable(),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    finished_at: isoTime.nullable(),
    steps: z.array(actionStepViewSchema),
  })
  .meta({ id: 'ActionView' });
export type ActionView = z.infer<typeof actionViewSchema>;

export const actionPageSchema = z
  .object({
    items: z.array(actionViewSchema.omit({ steps: true })),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'ActionPage' });
export type ActionPage = z.infer<typeof actionPageSchema>;
