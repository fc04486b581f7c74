import { Controller, Delete, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import {
  groupCancelSchema,
  type GroupCancelView,
  groupPageSchema,
  groupParam,
  groupView,
  type GroupView,
  groupViewSchema,
  type ListGroupsQuery,
  listGroupsQuery,
} from './group.view.js';
import { GroupsService } from './groups.service.js';

const name = new ZodPipe(groupParam, 'path');

/**
 * Job groups (`"group"` in a JobSpec). A group exists once a job names it; its jobs are listed
 * with `GET /api/v1/jobs?group=`, its events watched with `GET /api/v1/events/stream?group=`.
 */
@TenantOnly()
@Controller('api/v1/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @ApiOperation({
    summary: 'List your job groups, by name',
    tags: ['groups'],
    query: listGroupsQuery,
    responses: { 200: groupPageSchema },
  })
  @Get()
  async list(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(new ZodPipe(listGroupsQuery, 'query')) query: ListGroupsQuery,
  ): Promise<{ items: GroupView[]; next_cursor: string | null }> {
    const rows = await this.groups.list(caller.tenantId, {
      ...(query.cursor !== undefined ? { after: query.cursor } : {}),
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit).map(groupView);
    return { items, next_cursor: rows.length > query.limit ? (items.at(-1)?.name ?? null) : null };
  }

  @ApiOperation({
    summary: 'Summary of a job group: jobs per phase',
    description:
      'Read from counters kept as the jobs change: the same cost for 10 jobs or 100,000.',
    tags: ['groups'],
    params: { name: groupParam },
    responses: { 200: groupViewSchema },
    errors: [404],
  })
  @Get(':name')
  async get(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', name) group: string,
  ): Promise<GroupView> {
    return groupView(await this.groups.get(caller.tenantId, group));
  }

  @ApiOperation({
    summary: 'Cancel every unfinished job of a group',
    description:
      'Idempotent: finished jobs are left as they are, and a group with nothing left to cancel answers `cancelled: 0`.',
    tags: ['groups'],
    params: { name: groupParam },
    responses: { 200: groupCancelSchema },
    errors: [404],
  })
  @Delete(':name')
  async cancel(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', name) group: string,
  ): Promise<GroupCancelView> {
    const outcome = await this.groups.cancel(caller.tenantId, group);
    return { cancelled: outcome.cancelled, group: groupView(outcome.group) };
  }
}
