import { groupName, phaseCounts } from '@roam/contracts';
import { z } from 'zod';

import type { GroupRow } from './groups.repository.js';

const isoTime = z.iso.datetime();

/** `GET /api/v1/groups/{name}`: the group's counters, read from one row whatever its size. */
export const groupViewSchema = z
  .object({
    name: z.string(),
    total: z.number().int().describe('Jobs ever submitted to the group.'),
    pending: z.number().int().describe('Submitted, queued or admitted.'),
    running: z.number().int(),
    finished: z.number().int().describe('Succeeded, failed or cancelled.'),
    counts: phaseCounts.describe('Jobs per phase.'),
    done: z.boolean().describe('Every job of the group has finished.'),
    created_at: isoTime,
    finished_at: isoTime
      .nullable()
      .describe('When its last unfinished job finished (`group.finished`); null while not done.'),
  })
  .meta({ id: 'JobGroup' });
export type GroupView = z.output<typeof groupViewSchema>;

export function groupView(row: GroupRow): GroupView {
  const counts = {
    submitted: row.submitted,
    queued: row.queued,
    admitted: row.admitted,
    running: row.running,
    succeeded: row.succeeded,
    failed: row.failed,
    cancelled: row.cancelled,
  };
  const pending = counts.submitted + counts.queued + counts.admitted;
  const finished = counts.succeeded + counts.failed + counts.cancelled;
  return {
    name: row.name,
    total: pending + counts.running + finished,
    pending,
    running: counts.running,
    finished,
    counts,
    done: pending + counts.running === 0,
    created_at: row.createdAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}

export const groupPageSchema = z
  .object({
    items: z.array(groupViewSchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page.'),
  })
  .meta({ id: 'JobGroupPage' });

/** `DELETE /api/v1/groups/{name}`. */
export const groupCancelSchema = z
  .object({
    cancelled: z.number().int().describe('Jobs this request cancelled.'),
    group: groupViewSchema,
  })
  .meta({ id: 'JobGroupCancel' });
export type GroupCancelView = z.output<typeof groupCancelSchema>;

export const groupParam = groupName;

export const listGroupsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: groupName.optional().describe('The `next_cursor` of the previous page.'),
  })
  .strict();
export type ListGroupsQuery = z.output<typeof listGroupsQuery>;
