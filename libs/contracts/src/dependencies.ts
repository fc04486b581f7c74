import { z } from 'zod';

import { phaseCounts } from './groups.js';

/** Most `depends_on` entries one job, array or pipeline step may have. */
export const MAX_DEPENDENCIES = 32;

/**
 * When a dependency is met. On a job (or, with `type: N_TO_N`, on each element of an array):
 * `succeeded`, `finished` (any end) or `failed`. On a whole array: `all_succeeded`,
 * `any_failed` or `finished` (every element ended).
 */
export const dependencyCondition = z.enum([
  'succeeded',
  'finished',
  'failed',
  'all_succeeded',
  'any_failed',
]);
export type DependencyCondition = z.infer<typeof dependencyCondition>;

/** One `depends_on` entry of a JobSpec. */
export const dependencySchema = z
  .object({
    job: z.uuid('must be the id of one of your jobs or arrays').describe('A job or array id.'),
    on: dependencyCondition,
    type: z
      .literal('N_TO_N')
      .optional()
      .describe(
        'Between two arrays of the same size: element i waits for element i of `job`, by `on` (succeeded, finished or failed).',
      ),
  })
  .strict()
  .meta({ id: 'Dependency' });
export type Dependency = z.infer<typeof dependencySchema>;

export const dependsOn = z
  .array(dependencySchema)
  .min(1)
  .max(MAX_DEPENDENCIES, `must hold at most ${MAX_DEPENDENCIES} dependencies`)
  .describe(
    'Jobs or arrays this job waits for; it is not admitted until every one is met. When one can no longer be met the job is cancelled (reason DependencyFailed), unless `on_dependency_failure` is `keep`.',
  );

/** What happens to a job one of whose dependencies can no longer be met. */
export const onDependencyFailure = z
  .enum(['cancel', 'keep'])
  .describe(
    '`cancel` (the default): cancelled with reason DependencyFailed. `keep`: stays queued with reason DependencyNeverSatisfied until you cancel it.',
  );

/** `roam.evt.v1.pipeline.finished`: every step of the pipeline has finished. */
export const pipelineFinishedEvent = z.object({
  pipelineId: z.uuid(),
  name: z.string(),
  steps: z.number().int().positive(),
  /** Steps by outcome: a job step by its status, an array step succeeded when all its elements did. */
  outcome: z.object({
    succeeded: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    cancelled: z.number().int().nonnegative(),
  }),
  /** Jobs of the pipeline (array elements included) per phase. */
  counts: phaseCounts,
});
export type PipelineFinishedEvent = z.infer<typeof pipelineFinishedEvent>;
