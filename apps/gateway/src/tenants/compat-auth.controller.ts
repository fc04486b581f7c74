import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { AdminOnly, CurrentPrincipal, type Principal, Public } from '../auth/principal.js';
import {
  type RegisterTenant,
  registerTenantSchema,
  regenerateKeySchema,
  tenantIdParam,
  type UpdateTenant,
  updateTenantSchema,
} from './tenant.schemas.js';
import { type RegisteredTenant, TenantsService } from './tenants.service.js';
import { type TenantView, tenantView } from './tenant.view.js';
import {
  regeneratedKeySchema,
  registeredTenantSchema,
  tenantViewSchema,
} from '../openapi/common.schemas.js';

const tenantId = new ZodPipe(tenantIdParam, 'path');

/**
 * SUMO-K8's account routes, served as SUMO-K8 documents them. Unlike SUMO-K8, reading a
 * tenant needs its own key or an admin's, and changing limits needs an admin.
 */
@Controller('auth')
export class CompatAuthController {
  constructor(private readonly tenants: TenantsService) {}

  @ApiOperation({
    summary: 'Register a tenant (SUMO-K8)',
    description:
      'Open or admin-only depending on `ROAM_REGISTRATION`; an admin key may always register.',
    tags: ['seed', 'tenants'],
    body: registerTenantSchema,
    responses: { 201: registeredTenantSchema },
    errors: [401, 403, 409],
  })
  @Public()
  @Post('register')
  @HttpCode(201)
  register(
    @Body(new ZodPipe(registerTenantSchema)) body: RegisterTenant,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<RegisteredTenant> {
    return this.tenants.register(body, caller);
  }

  @ApiOperation({
    summary: 'Replace an API key (SUMO-K8)',
    description:
      'A tenant replaces the key it calls with; an admin replaces every key of `tenant_id`.',
    tags: ['seed', 'tenants'],
    body: regenerateKeySchema,
    responses: { 200: regeneratedKeySchema },
    errors: [404],
  })
  @Post('regenerate-key')
  @HttpCode(200)
  async regenerate(
    @Body(new ZodPipe(regenerateKeySchema)) body: { tenant_id?: string },
    @CurrentPrincipal() caller: Principal,
  ): Promise<{ tenant_id: string; api_key: string; api_key_id: string; message: string }> {
    const { tenantId: id, key } = await this.tenants.regenerateKey(caller, body.tenant_id);
    return {
      tenant_id: id,
      api_key: key.key,
      api_key_id: key.id,
      message: 'The previous key no longer works. Save this one now: it cannot be shown again.',
    };
  }

  @ApiOperation({
    summary: 'Read a tenant (SUMO-K8)',
    tags: ['seed', 'tenants'],
    params: { id: tenantIdParam },
    responses: { 200: tenantViewSchema },
    errors: [404],
  })
  @Get('tenants/:id')
  async get(
    @Param('id', tenantId) id: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<TenantView> {
    return tenantView(await this.tenants.get(id, caller));
  }

  @ApiOperation({
    summary: "Change a tenant's limits (SUMO-K8)",
    tags: ['seed', 'tenants'],
    params: { id: tenantIdParam },
    body: updateTenantSchema,
    responses: { 200: tenantViewSchema },
    errors: [404, 409],
  })
  @AdminOnly()
  @Patch('tenants/:id')
  async update(
    @Param('id', tenantId) id: string,
    @Body(new ZodPipe(updateTenantSchema)) body: UpdateTenant,
  ): Promise<TenantView> {
    return tenantView(await this.tenants.update(id, body));
  }
}
