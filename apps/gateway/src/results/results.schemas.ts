import { z } from 'zod';

export const resultFileSchema = z
  .object({
    name: z.string().describe('Path relative to the results directory.'),
    size: z.number().int(),
    checksum: z.string().describe('sha256, hex.'),
    checksum_algorithm: z.literal('sha256'),
    content_type: z.string(),
    url: z
      .string()
      .describe('Short-lived download URL (presigned), or the gateway route in PVC mode.'),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'ResultFile' });

export const resultListSchema = z
  .object({
    job_id: z.string(),
    storage_type: z.enum(['s3', 'pvc']),
    result_location: z.string().nullable(),
    files: z.array(resultFileSchema),
  })
  .meta({ id: 'ResultList' });
export type ResultList = z.output<typeof resultListSchema>;

export const resultFileQuery = z
  .object({
    redirect: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .strict();

export const deletedResultsSchema = z
  .object({ job_id: z.string(), deleted: z.number().int() })
  .meta({ id: 'DeletedResults' });
