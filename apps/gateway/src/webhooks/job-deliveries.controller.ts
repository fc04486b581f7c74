import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { jobIdParam } from '../jobs/job.schemas.js';
import { type JobDeliveries, jobDeliveriesQuery } from './webhook.schemas.js';
import { type DeliveryView, deliveryView, jobDeliveryListSchema } from './webhook.view.js';
import { WebhooksService } from './webhooks.service.js';

/** The webhook deliveries of one job's events, across the tenant's endpoints. */
@TenantOnly()
@Controller('api/v1/jobs/:id/deliveries')
export class JobDeliveriesController {
  constructor(private readonly webhooks: WebhooksService) {}

  @ApiOperation({
    summary: "Webhook deliveries of a job's events, newest first, with their attempts",
    tags: ['webhooks'],
    params: { id: jobIdParam },
    query: jobDeliveriesQuery,
    responses: { 200: jobDeliveryListSchema },
    errors: [404],
  })
  @Get()
  async list(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', new ZodPipe(jobIdParam, 'path')) id: string,
    @Query(new ZodPipe(jobDeliveriesQuery, 'query')) query: JobDeliveries,
  ): Promise<{ items: DeliveryView[] }> {
    const rows = await this.webhooks.jobDeliveries(caller.tenantId, id, query.limit);
    return { items: rows.map(deliveryView) };
  }
}
