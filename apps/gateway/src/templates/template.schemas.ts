import { globPattern, jobSpecSchema } from '@roam/contracts';
import { z } from 'zod';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const templateName = z
  .string()
  .max(63)
  .regex(DNS_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and -');

/**
 * A template: a complete JobSpec (so a plain `{"template": "x"}` submit is valid), plus what
 * the inputs/results work reads and the JobSpec itself has no place for.
 */
export const templateSpecSchema = jobSpecSchema.extend({
  /** Files kept as results, as globs relative to the job's working directory. */
  results: z
    .object({ patterns: z.array(globPattern).min(1).max(64) })
    .strict()
    .optional(),
  /** Inputs the job cannot run without, as globs (the `sumo` template requires `*.sumocfg`). */
  inputs: z
    .object({ required: z.array(globPattern).max(16) })
    .strict()
    .optional(),
});
export type TemplateSpec = z.output<typeof templateSpecSchema>;

export const createTemplateSchema = z
  .object({
    name: templateName,
    spec: templateSpecSchema,
  })
  .strict();
export type CreateTemplate = z.output<typeof createTemplateSchema>;

export const replaceTemplateSchema = z.object({ spec: templateSpecSchema }).strict();
export type ReplaceTemplate = z.output<typeof replaceTemplateSchema>;
