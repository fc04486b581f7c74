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

/** `roam.evt.v1.group.finished`: the last unfinished job of the group has finished. */
export const groupFinishedEvent = z.object({
  group: z.string(),
  total: z.number().int().nonnegative(),
  counts: phaseCounts,
});
export type GroupFinishedEvent = z.infer<typeof groupFinishedEvent>;
