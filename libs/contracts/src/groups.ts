import { z } from 'zod';

/**
 * A job group's name (`"group": "sweep-2026-12-03"` in a JobSpec): letters, digits, `.`, `_`
 * and `-`, starting with a letter or digit, at most 63 characters.
 */
export const GROUP_NAME_MAX = 63;
export const groupName = z
  .string()
  .min(1)
  .max(GROUP_NAME_MAX)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'must be letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/** Jobs of a group (or array) per phase; `pending` phases are Submitted, Queued and Admitted. */
export const phaseCounts = z.object({
  submitted: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  admitted: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
});
export type PhaseCounts = z.infer<typeof phaseCounts>;

/** The counts per phase of a row that keeps them among other columns (a group, an array). */
export const phaseCountsOf = (row: PhaseCounts): PhaseCounts => ({
  submitted: row.submitted,
  queued: row.queued,
  admitted: row.admitted,
  running: row.running,
  succeeded: row.succeeded,
  failed: row.failed,
  cancelled: row.cancelled,
});

/** `roam.evt.v1.group.finished`: the last unfinished job of the group has finished. */
export const groupFinishedEvent = z.object({
  group: z.string(),
  total: z.number().int().nonnegative(),
  counts: phaseCounts,
});
export type GroupFinishedEvent = z.infer<typeof groupFinishedEvent>;

/** `roam.evt.v1.array.finished`: the last unfinished element of the array has finished. */
export const arrayFinishedEvent = z.object({
  arrayId: z.uuid(),
  name: z.string(),
  size: z.number().int().positive(),
  counts: phaseCounts,
});
export type ArrayFinishedEvent = z.infer<typeof arrayFinishedEvent>;

/** Longest `ROAM_ARRAY_ITEM` value. */
export const ARRAY_ITEM_MAX_LENGTH = 4096;

/** `array` in a `POST /api/v1/jobs` body: submit `size` elements of the spec as one array. */
export const arrayRequest = z
  .object({
    size: z.number().int().min(1),
    items: z
      .array(z.string().max(ARRAY_ITEM_MAX_LENGTH))
      .optional()
      .describe(
        'One value per element (exactly `size`), given to element i as `ROAM_ARRAY_ITEM`: a route file name, a parameter set as a CSV row or JSON text.',
      ),
    parallelism: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Most elements admitted or running at once; unset = only the tenant’s limits.'),
  })
  .strict()
  .refine((array) => array.items === undefined || array.items.length === array.size, {
    message: 'must hold exactly `size` items, one per element',
    path: ['items'],
  })
  .meta({ id: 'ArrayRequest' });
export type ArrayRequest = z.infer<typeof arrayRequest>;
