import { arrayRequest, dependencyCondition, phaseCounts } from '@roam/contracts';
import { z } from 'zod';

import { namedJobSpec, submitFromTemplateSchema } from '../jobs/job.schemas.js';

/** Most steps one pipeline may have. */
export const MAX_PIPELINE_STEPS = 50;

export const stepName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a DNS-1123 label: lower-case letters, digits and -',
  );

/** A step's dependency on another step of the same pipeline, by name. */
export const stepDependency = z
  .object({
    step: stepName,
    on: dependencyCondition,
    type: z.literal('N_TO_N').optional(),
  })
  .strict()
  .meta({ id: 'StepDependency' });

/**
 * One step: a job (`job`: a JobSpec, or `{"template": …}`), or an array of it with `array`.
 * `depends_on` names other steps; the job's own `depends_on` may name existing jobs by id.
 */
export const pipelineStep = z
  .object({
    name: stepName,
    job: z.unknown().describe('A JobSpec, or `{"template": "<name>", ...overrides}`.'),
    array: z
      .unknown()
      .optional()
      .describe('`{ size, items?, parallelism? }`: the step is an array.'),
    depends_on: z.array(stepDependency).max(32).optional(),
  })
  .strict();

export const pipelineBody = z
  .object({
    name: stepName,
    steps: z
      .array(pipelineStep)
      .min(1)
      .max(MAX_PIPELINE_STEPS, `must hold at most ${MAX_PIPELINE_STEPS} steps`),
  })
  .strict();
export type PipelineBody = z.output<typeof pipelineBody>;

/** `pipelineBody` as the OpenAPI document shows it: `job` and `array` typed. */
export const pipelineBodyDocument = pipelineBody
  .extend({
    steps: z
      .array(
        pipelineStep.extend({
          job: z.union([namedJobSpec, submitFromTemplateSchema]),
          array: arrayRequest.optional(),
        }),
      )
      .min(1)
      .max(MAX_PIPELINE_STEPS),
  })
  .meta({ id: 'PipelineSubmit' });

const isoTime = z.iso.datetime();

export const pipelineStepView = z
  .object({
    name: z.string(),
    kind: z.enum(['job', 'array']),
    id: z.uuid().describe('The job’s or the array’s id.'),
    status: z
      .enum(['pending', 'running', 'succeeded', 'failed', 'cancelled'])
      .describe('A job’s status; an array’s: succeeded when every element did.'),
    phase: z.string().nullable().describe('A job step’s phase (`Queued`…); null for an array.'),
    reason: z.string().nullable(),
    counts: phaseCounts.describe('Jobs of the step per phase (1 job, or the array’s elements).'),
    depends_on: z.array(z.object({ step: z.string(), on: z.string() })),
  })
  .meta({ id: 'PipelineStep' });

export const pipelineViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    steps: z.array(pipelineStepView),
    outcome: z
      .object({
        succeeded: z.number().int(),
        failed: z.number().int(),
        cancelled: z.number().int(),
      })
      .describe('Finished steps by outcome.'),
    counts: phaseCounts.describe('Jobs of every step (array elements included) per phase.'),
    done: z.boolean(),
    created_at: isoTime,
    finished_at: isoTime.nullable().describe('When its last step finished (`pipeline.finished`).'),
  })
  .meta({ id: 'Pipeline' });
export type PipelineView = z.output<typeof pipelineViewSchema>;

/** Where a pipeline stands: running until its last step finished, then by its steps' outcomes. */
export const pipelineState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type PipelineState = z.output<typeof pipelineState>;

/** A pipeline in a list: its row only (`GET /api/v1/pipelines/{id}` has the steps). */
export const pipelineSummarySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    state: pipelineState.describe(
      '`running` until its last step finished; then `failed` if a step failed, else `cancelled` if one was cancelled, else `succeeded`.',
    ),
    steps_total: z.number().int(),
    outcome: z
      .object({
        succeeded: z.number().int(),
        failed: z.number().int(),
        cancelled: z.number().int(),
      })
      .describe('Finished steps by outcome.'),
    done: z.boolean(),
    created_at: isoTime,
    finished_at: isoTime.nullable(),
  })
  .meta({ id: 'PipelineSummary' });
export type PipelineSummary = z.output<typeof pipelineSummarySchema>;

/** `GET /api/v1/pipelines`: the tenant's pipelines, newest first. */
export const pipelinePageSchema = z
  .object({
    items: z.array(pipelineSummarySchema),
    next_cursor: z
      .uuid()
      .nullable()
      .describe('Pass as `cursor` for the next page (older pipelines); null at the end.'),
  })
  .meta({ id: 'PipelinePage' });

export const listPipelinesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.uuid().optional().describe('The `next_cursor` of the previous page.'),
    state: pipelineState.optional().describe('Only pipelines in this state.'),
  })
  .strict();
export type ListPipelinesQuery = z.output<typeof listPipelinesQuery>;
