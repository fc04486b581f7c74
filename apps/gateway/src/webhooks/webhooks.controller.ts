import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import {
  type CreateWebhook,
  createWebhookSchema,
  deliveryIdParam,
  type ListDeliveries,
  listDeliveriesQuery,
  type RotateSecret,
  rotateSecretSchema,
  type UpdateWebhook,
  updateWebhookSchema,
  webhookIdParam,
} from './webhook.schemas.js';
import {
  deliveryPageSchema,
  deliveryView,
  deliveryViewSchema,
  webhookListSchema,
  webhookTestSchema,
  webhookView,
  webhookViewSchema,
  webhookWithSecretSchema,
} from './webhook.view.js';
import { WebhooksService } from './webhooks.service.js';

const webhookId = new ZodPipe(webhookIdParam, 'path');
const deliveryId = new ZodPipe(deliveryIdParam, 'path');

/** A tenant's webhook endpoints (Standard Webhooks), their deliveries and attempts. */
@TenantOnly()
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @ApiOperation({
    summary: 'Add a webhook endpoint',
    description:
      'Deliveries are signed as Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the secret returned here, once. The URL must be reachable and allowed by the gateway’s destination policy (400 otherwise).',
    tags: ['webhooks'],
    body: createWebhookSchema,
    responses: { 201: webhookWithSecretSchema },
  })
  @Post()
  @HttpCode(201)
  async create(
    @CurrentTenant() caller: TenantPrincipal,
    @Body(new ZodPipe(createWebhookSchema)) body: CreateWebhook,
  ) {
    const { endpoint, secret } = await this.webhooks.create(caller.tenantId, body);
    return { ...webhookView(endpoint), secret };
  }

  @ApiOperation({
    summary: 'List your webhook endpoints',
    tags: ['webhooks'],
    responses: { 200: webhookListSchema },
  })
  @Get()
  async list(@CurrentTenant() caller: TenantPrincipal) {
    return { items: (await this.webhooks.list(caller.tenantId)).map(webhookView) };
  }

  @ApiOperation({
    summary: 'Read a webhook endpoint',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    responses: { 200: webhookViewSchema },
    errors: [404],
  })
  @Get(':id')
  async get(@CurrentTenant() caller: TenantPrincipal, @Param('id', webhookId) id: string) {
    return webhookView(await this.webhooks.get(caller.tenantId, id));
  }

  @ApiOperation({
    summary: 'Change a webhook endpoint’s URL, events or description',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    body: updateWebhookSchema,
    responses: { 200: webhookViewSchema },
    errors: [404],
  })
  @Patch(':id')
  async update(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', webhookId) id: string,
    @Body(new ZodPipe(updateWebhookSchema)) body: UpdateWebhook,
  ) {
    return webhookView(await this.webhooks.update(caller.tenantId, id, body));
  }

  @ApiOperation({
    summary: 'Delete a webhook endpoint and its deliveries',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    responses: { 204: null },
    errors: [404],
  })
  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentTenant() caller: TenantPrincipal, @Param('id', webhookId) id: string) {
    await this.webhooks.delete(caller.tenantId, id);
  }

  @ApiOperation({
    summary: 'Pause deliveries to an endpoint',
    description:
      'While paused, events published are not queued for it; deliveries already pending wait and go out once it is resumed.',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    responses: { 200: webhookViewSchema },
    errors: [404],
  })
  @Post(':id/pause')
  @HttpCode(200)
  async pause(@CurrentTenant() caller: TenantPrincipal, @Param('id', webhookId) id: string) {
    return webhookView(await this.webhooks.pause(caller.tenantId, id));
  }

  @ApiOperation({
    summary: 'Resume a paused endpoint, or re-enable a disabled one',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    responses: { 200: webhookViewSchema },
    errors: [404],
  })
  @Post(':id/resume')
  @HttpCode(200)
  async resume(@CurrentTenant() caller: TenantPrincipal, @Param('id', webhookId) id: string) {
    return webhookView(await this.webhooks.resume(caller.tenantId, id));
  }

  @ApiOperation({
    summary: 'Rotate an endpoint’s signing secret',
    description:
      'Returns the new secret, once. The previous one keeps signing too (two signatures per delivery) for `grace_hours`. 409 when another rotation won a race.',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    body: rotateSecretSchema,
    responses: { 200: webhookWithSecretSchema },
    errors: [404, 409],
  })
  @Post(':id/rotate-secret')
  @HttpCode(200)
  async rotateSecret(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', webhookId) id: string,
    @Body(new ZodPipe(rotateSecretSchema)) body: RotateSecret,
  ) {
    const { endpoint, secret } = await this.webhooks.rotateSecret(caller.tenantId, id, body);
    return { ...webhookView(endpoint), secret };
  }

  @ApiOperation({
    summary: 'Send a `webhook.test` event to an endpoint',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    responses: { 202: webhookTestSchema },
    errors: [404],
  })
  @Post(':id/test')
  @HttpCode(202)
  async test(@CurrentTenant() caller: TenantPrincipal, @Param('id', webhookId) id: string) {
    const { deliveryId: delivery, event } = await this.webhooks.sendTest(caller.tenantId, id);
    return { delivery_id: delivery, event_id: event.id };
  }

  @ApiOperation({
    summary: 'List an endpoint’s deliveries, newest first, with their attempts',
    tags: ['webhooks'],
    params: { id: webhookIdParam },
    query: listDeliveriesQuery,
    responses: { 200: deliveryPageSchema },
    errors: [404],
  })
  @Get(':id/deliveries')
  async deliveries(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', webhookId) id: string,
    @Query(new ZodPipe(listDeliveriesQuery, 'query')) query: ListDeliveries,
  ) {
    const rows = await this.webhooks.deliveries(caller.tenantId, id, {
      ...query,
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit).map(deliveryView);
    return { items, next_cursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  @ApiOperation({
    summary: 'Deliver an event again',
    description: 'Queues the delivery for an immediate new attempt, whatever its status.',
    tags: ['webhooks'],
    params: { id: webhookIdParam, deliveryId: deliveryIdParam },
    responses: { 202: deliveryViewSchema },
    errors: [404],
  })
  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  async redeliver(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', webhookId) id: string,
    @Param('deliveryId', deliveryId) delivery: string,
  ) {
    return deliveryView(await this.webhooks.redeliver(caller.tenantId, id, delivery));
  }
}
