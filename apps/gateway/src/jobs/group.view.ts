import { groupName } from '@roam/contracts';
import { z } from 'zod';

import type { GroupRow } from './groups.repository.js';
import { phaseSummary, phaseSummaryShape } from './phase-summary.view.js';

/** `GET /api/v1/groups/{name}`: the group's counters, read from one row whatever its size. */
export const groupViewSchema = z
  .object({
    name: z.string(),
    total: z.number().int().describe('Jobs ever submitted to the group.'),
    ...phaseSummaryShape('Jobs', 'group.finished'),
  })
  .meta({ id: 'JobGroup' });
export type GroupView = z.output<typeof groupViewSchema>;

export function groupView(row: GroupRow): GroupView {
  const summary = phaseSummary(row);
  return {
    name: row.name,
    total: summary.pending + summary.running + summary.finished,
    ...summary,
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
