import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { AdminOnly } from '../auth/principal.js';
import {
  type ActivityView,
  activitySchema,
  type AdminJobsQuery,
  adminJobsQuery,
  adminJobsSchema,
  type AdminJobsView,
  clusterSchema,
  type ClusterView,
} from './admin.schemas.js';
import { AdminService } from './admin.service.js';

/** SUMO-K8's admin views. SUMO-K8 left them open; roam requires an admin key. */
@AdminOnly()
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @ApiOperation({
    summary: 'Cluster nodes: conditions, capacity, allocatable, running pods (SUMO-K8)',
    tags: ['admin', 'seed'],
    responses: { 200: clusterSchema },
  })
  @Get('cluster')
  cluster(): Promise<ClusterView> {
    return this.admin.cluster();
  }

  @ApiOperation({
    summary: "Every tenant's jobs with their Kubernetes Job status (SUMO-K8)",
    tags: ['admin', 'seed'],
    query: adminJobsQuery,
    responses: { 200: adminJobsSchema },
  })
  @Get('jobs')
  jobs(@Query(new ZodPipe(adminJobsQuery, 'query')) query: AdminJobsQuery): Promise<AdminJobsView> {
    return this.admin.jobs(query);
  }

  @ApiOperation({
    summary:
      'Cluster activity: nodes, pods by phase, Kubernetes Jobs, roam jobs by status (SUMO-K8)',
    tags: ['admin', 'seed'],
    responses: { 200: activitySchema },
  })
  @Get('activity')
  activity(): Promise<ActivityView> {
    return this.admin.activity();
  }
}
