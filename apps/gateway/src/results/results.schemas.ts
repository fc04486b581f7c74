import { z } from 'zod';

import { replicaName } from '../logs/logs.schemas.js';

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
    files: z.array(resultFileSchema).describe('One page, in path order.'),
    has_more: z.boolean().describe('True when more files follow this page.'),
    next_cursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'ResultList' });
export type ResultList = z.output<typeof resultListSchema>;

/**
 * Paging of a listing: `limit` is checked against RESULTS_PAGE_MAX by the service (the bound
 * is configuration, this schema only knows the hard ceiling). The cursor is the last path of
 * the previous page, base64url-encoded so a client treats it as opaque.
 */
/** `?replica=`: one replica's results of a multi-pod job (they are kept under `<replica>/`). */
export const replicaParam = replicaName
  .optional()
  .describe(
    "Only one replica's files of a multi-pod job: an indexed job's completion index (`3`), or a JobSet's `<replicated job>-<index>` (`worker-3`); their names start with `<replica>/`. 404 when the job has no such replica.",
  );

export const resultZipQuery = z.object({ replica: replicaParam }).strict();
export type ResultZipQuery = z.output<typeof resultZipQuery>;

export const resultListQuery = z
  .object({
    replica: replicaParam,
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('Files per page (default RESULTS_PAGE_SIZE, at most RESULTS_PAGE_MAX).'),
    cursor: z
      .string()
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be the next_cursor of a previous page')
      .transform((value) => Buffer.from(value, 'base64url').toString('utf8'))
      // A path never holds NUL, and Postgres text cannot.
      .refine((path) => !path.includes('\u0000'), 'must be the next_cursor of a previous page')
      .optional()
      .describe('The `next_cursor` of the previous page.'),
  })
  .strict();
export type ResultListQuery = z.output<typeof resultListQuery>;

export const encodeResultCursor = (path: string): string =>
  Buffer.from(path, 'utf8').toString('base64url');

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
