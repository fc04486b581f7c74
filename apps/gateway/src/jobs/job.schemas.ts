import { groupName, jobSpecSchema, jobStatus, type JobStatus } from '@roam/contracts';
import { LabelSelectorError, type LabelRequirement, parseLabelSelector } from '@roam/domain';
import { z } from 'zod';

export const MAX_BATCH = 1000;

export const jobIdParam = z.uuid('must be a job id (UUID)');

/**
 * `jobSpecSchema` under a name, so the OpenAPI document shows it once as a component (`JobSpec`,
 * and `JobSpecInput` in request bodies, where defaults make it differ). It parses the same.
 */
export const namedJobSpec = jobSpecSchema.meta({ id: 'JobSpec' });

/** `status=pending` or `status=pending,running`; case-insensitive (SUMO-K8 writes RUNNING). */
const statuses = z
  .string()
  .max(100)
  .transform((value, context): JobStatus[] => {
    const out: JobStatus[] = [];
    for (const part of value.split(',')) {
      const parsed = jobStatus.safeParse(part.trim().toLowerCase());
      if (!parsed.success) {
        context.addIssue({
          code: 'custom',
          message: `"${part}" is not a job status (${jobStatus.options.join(', ')})`,
        });
        return z.NEVER;
      }
      out.push(parsed.data);
    }
    return [...new Set(out)];
  });

const labelSelector = z.string().transform((value, context): LabelRequirement[] => {
  try {
    return parseLabelSelector(value);
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    context.addIssue({ code: 'custom', message: `invalid label selector: ${error.message}` });
    return z.NEVER;
  }
});

const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' })
  .transform((value) => new Date(value));

export const listJobsQuery = z
  .object({
    status: statuses
      .optional()
      .describe('One status or several, comma-separated: `pending,running` (any case).'),
    queue: z.string().max(63).optional(),
    group: groupName.optional().describe('Only jobs of this group (`spec.group`).'),
    array: z
      .uuid('must be an array id (UUID)')
      .optional()
      .describe('Only the elements of this job array.'),
    labelSelector: labelSelector
      .optional()
      .describe(
        'A Kubernetes label selector over the spec’s labels: `team=a,tier in (x,y),!debug`.',
      ),
    created_since: instant.optional().describe('Only jobs created at or after this instant.'),
    created_until: instant.optional().describe('Only jobs created before this instant.'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .uuid('must be the next_cursor of a previous page')
      .optional()
      .describe('The `next_cursor` of the previous page.'),
  })
  .strict();
export type ListJobsQuery = z.output<typeof listJobsQuery>;

/** Items are validated one by one by the service, so the 400 can name every bad index. */
export const batchBody = z
  .object({
    jobs: z
      .array(z.unknown())
      .min(1, 'must hold at least one job')
      .max(MAX_BATCH, `must hold at most ${MAX_BATCH} jobs`),
  })
  .strict();
export type BatchBody = z.output<typeof batchBody>;

/** `batchBody` as the OpenAPI document shows it: its items are what the service parses them as. */
export const batchBodyDocument = batchBody.extend({
  jobs: z
    .array(namedJobSpec)
    .min(1)
    .max(MAX_BATCH)
    .describe(`1 to ${MAX_BATCH} JobSpecs; templates are not resolved here.`),
});

/**
 * `{"template": "<name>", ...overrides}`. `TemplatesService.resolve` reads it: the overrides
 * are merge-patched (RFC 7396) onto the template's spec and the result is validated as a JobSpec.
 */
export const submitFromTemplateSchema = z
  .object({
    template: z.string().min(1).max(63).describe('Name of one of your templates or a built-in.'),
  })
  .catchall(z.unknown())
  .describe(
    'Any other JobSpec field is an override, merge-patched (RFC 7396) onto the template: objects merge key by key, arrays and scalars replace, `null` removes.',
  )
  .meta({ id: 'TemplateSubmit' });

/**
 * What `POST /api/v1/jobs` accepts, for the OpenAPI document. The route parses it itself
 * (`JobsService.requestOf`): a body with `template` is a template submit, anything else a JobSpec.
 */
export const submitJobBody = z.union([namedJobSpec, submitFromTemplateSchema]);
