import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { AdminOnly, CurrentTenant, type TenantPrincipal, TenantOnly } from '../auth/principal.js';
import {
  type OffloadOverviewView,
  offloadOverviewSchema,
  type QueueSeriesView,
  queueSeriesSchema,
  type SeriesQuery,
  seriesQuery,
  type UsageSeriesView,
  usageSeriesSchema,
} from './insights.schemas.js';
import { OffloadOverviewService } from './offload-overview.service.js';
import { QueueSeriesService } from './queue-series.service.js';
import { UsageSeriesService } from './usage-series.service.js';

const series = new ZodPipe(seriesQuery, 'query');

/** The calling tenant's usage over time; nothing of another tenant but a count. */
@TenantOnly()
@Controller('api/v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageSeriesService) {}

  @ApiOperation({
    summary: 'Your quota use over time, and your fair-share position now',
    description:
      'Derived from your jobs’ submit, admission and finish times over the last `hours`, in `buckets` evenly spaced points.',
    tags: ['usage'],
    query: seriesQuery,
    responses: { 200: usageSeriesSchema },
  })
  @Get('series')
  get(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(series) query: SeriesQuery,
  ): Promise<UsageSeriesView> {
    return this.usage.series(caller.tenantId, query);
  }
}

/** The admission queue and RunPod offloads across tenants; admin keys only. */
@AdminOnly()
@Controller('api/v1/admin')
export class OperatorInsightsController {
  constructor(
    private readonly queue: QueueSeriesService,
    private readonly offload: OffloadOverviewService,
  ) {}

  @ApiOperation({
    summary: 'The admission queue over time: jobs waiting per tenant, admissions, oldest waits',
    tags: ['admin'],
    query: seriesQuery,
    responses: { 200: queueSeriesSchema },
  })
  @Get('queue')
  getQueue(@Query(series) query: SeriesQuery): Promise<QueueSeriesView> {
    return this.queue.series(query);
  }

  @ApiOperation({
    summary: 'RunPod offloads: recent pods, the prices they run at, spend per tenant',
    tags: ['admin'],
    responses: { 200: offloadOverviewSchema },
  })
  @Get('offload')
  getOffload(): Promise<OffloadOverviewView> {
    return this.offload.overview();
  }
}
