import { jobStatus } from '@roam/contracts';
import { z } from 'zod';

import { jobViewSchema } from './job.view.js';
import type { ArrayRow } from './arrays.repository.js';
import { phaseSummary, phaseSummaryShape } from './phase-summary.view.js';

/** Above any index `ARRAY_MAX_SIZE` allows; keeps a path or cursor within a Postgres int. */
const ARRAY_INDEX_MAX = 1_000_000;

/** An array and its counters, read from one row whatever its size. */
export const arrayViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    size: z.number().int(),
    parallelism: z.number().int().nullable(),
    group: z.string().nullable(),
    progress: z.number().describe('finished / size, from 0 to 1.'),
    cancelling: z
      .boolean()
      .describe(
        'A cancel was accepted (202) and is under way: the counts show how far it has got.',
      ),
    ...phaseSummaryShape('Elements', 'array.finished'),
  })
  .meta({ id: 'JobArray' });
export type ArrayView = z.output<typeof arrayViewSchema>;

export function arrayView(row: ArrayRow): ArrayView {
  const summary = phaseSummary(row);
  return {
    id: row.id,
    name: row.name,
    size: row.size,
    parallelism: row.parallelism,
    group: row.groupName,
    progress: row.size > 0 ? summary.finished / row.size : 1,
    cancelling: row.cancelRequestedAt !== null && !summary.done,
    ...summary,
  };
}

/** `GET /api/v1/arrays/{id}/elements`: elements by index. */
export const elementPageSchema = z
  .object({
    items: z.array(jobViewSchema),
    next_cursor: z
      .number()
      .int()
      .nullable()
      .describe('Pass as `cursor` for the next page (an index); null at the end.'),
  })
  .meta({ id: 'JobArrayElementPage' });

/** `GET /api/v1/arrays`: the tenant's arrays, newest first. */
export const arrayPageSchema = z
  .object({
    items: z.array(arrayViewSchema),
    next_cursor: z
      .uuid()
      .nullable()
      .describe('Pass as `cursor` for the next page (older arrays); null at the end.'),
  })
  .meta({ id: 'JobArrayPage' });

export const arrayCancelSchema = z
  .object({
    cancelled: z
      .number()
      .int()
      .describe('Elements this request cancelled (0 with a 202: the background cancel does them).'),
    array: arrayViewSchema,
  })
  .meta({ id: 'JobArrayCancel' });
export type ArrayCancelView = z.output<typeof arrayCancelSchema>;

export const arrayRetrySchema = z
  .object({
    retried: z.number().int().describe('Failed elements this request submitted again.'),
    array: arrayViewSchema,
  })
  .meta({ id: 'JobArrayRetry' });
export type ArrayRetryView = z.output<typeof arrayRetrySchema>;

export const elementIndexParam = z.coerce
  .number('must be an element index')
  .int('must be an element index')
  .min(0, 'must be an element index')
  .max(ARRAY_INDEX_MAX, 'must be an element index');

export const listElementsQuery = z
  .object({
    status: jobStatus.optional().describe('Only elements in this status.'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.coerce
      .number()
      .int()
      .min(-1)
      .max(ARRAY_INDEX_MAX)
      .optional()
      .describe('The `next_cursor` of the previous page: elements after this index.'),
  })
  .strict();
export type ListElementsQuery = z.output<typeof listElementsQuery>;

export const listArraysQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.uuid().optional().describe('The `next_cursor` of the previous page.'),
  })
  .strict();
export type ListArraysQuery = z.output<typeof listArraysQuery>;
