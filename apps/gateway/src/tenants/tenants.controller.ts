import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import {
  AdminOnly,
  CurrentPrincipal,
  CurrentTenant,
  type Principal,
  Public,
  TenantOnly,
  type TenantPrincipal,
} from '../auth/principal.js';
import {
  createKeySchema,
  keyIdParam,
  listTenantsQuery,
  type RegisterTenant,
  registerTenantSchema,
  tenantIdParam,
  type UpdateTenant,
  updateTenantSchema,
} from './tenant.schemas.js';
import { notFound, type RegisteredTenant, TenantsService } from './tenants.service.js';
import { noUsage, type TenantView, tenantView } from './tenant.view.js';
import {
  issuedKeySchema,
  keyListSchema,
  registeredTenantSchema,
  tenantPageSchema,
  tenantViewSchema,
} from '../openapi/common.schemas.js';

const tenantId = new ZodPipe(tenantIdParam, 'path');

/** The canonical tenant API. Tenant management is for admins; a tenant may read itself and manage its keys. */
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly keys: ApiKeysRepository,
  ) {}

  @ApiOperation({
    summary: 'Register a tenant and get its first API key',
    description:
      'Open or admin-only depending on `ROAM_REGISTRATION`; an admin key may always register.',
    tags: ['tenants'],
    body: registerTenantSchema,
    responses: { 201: registeredTenantSchema },
    errors: [401, 403, 409],
  })
  @Public()
  @Post()
  @HttpCode(201)
  create(
    @Body(new ZodPipe(registerTenantSchema)) body: RegisterTenant,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<RegisteredTenant> {
    return this.tenants.register(body, caller);
  }

  @ApiOperation({
    summary: 'List tenants, with what each holds of its quota now',
    tags: ['tenants'],
    query: listTenantsQuery,
    responses: { 200: tenantPageSchema },
  })
  @AdminOnly()
  @Get()
  async list(
    @Query(new ZodPipe(listTenantsQuery, 'query')) query: { limit: number; cursor?: string },
  ) {
    const fetched = await this.tenants.list(query.limit + 1, query.cursor);
    const page = fetched.slice(0, query.limit);
    const usage = await this.tenants.usage(page.map((tenant) => tenant.id));
    const items = page.map((tenant) => ({
      ...tenantView(tenant),
      usage: usage.get(tenant.id) ?? noUsage,
    }));
    return {
      items,
      next_cursor: fetched.length > query.limit ? (items.at(-1)?.tenant_id ?? null) : null,
    };
  }

  @ApiOperation({
    summary: 'The calling tenant',
    tags: ['tenants'],
    responses: { 200: tenantViewSchema },
  })
  @TenantOnly()
  @Get('me')
  async me(@CurrentTenant() caller: TenantPrincipal): Promise<TenantView> {
    return tenantView(await this.tenants.get(caller.tenantId, caller));
  }

  @ApiOperation({
    summary: 'Read a tenant (itself, or any for an admin)',
    tags: ['tenants'],
    params: { id: tenantIdParam },
    responses: { 200: tenantViewSchema },
    errors: [404],
  })
  @Get(':id')
  async get(
    @Param('id', tenantId) id: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<TenantView> {
    return tenantView(await this.tenants.get(id, caller));
  }

  @ApiOperation({
    summary: "Change a tenant's limits",
    tags: ['tenants'],
    params: { id: tenantIdParam },
    body: updateTenantSchema,
    responses: { 200: tenantViewSchema },
    errors: [404, 409],
  })
  @AdminOnly()
  @Patch(':id')
  async update(
    @Param('id', tenantId) id: string,
    @Body(new ZodPipe(updateTenantSchema)) body: UpdateTenant,
  ): Promise<TenantView> {
    return tenantView(await this.tenants.update(id, body));
  }

  @ApiOperation({
    summary: 'Delete a tenant (refused while it has pending or running jobs)',
    tags: ['tenants'],
    params: { id: tenantIdParam },
    responses: { 202: tenantViewSchema },
    errors: [404, 409],
  })
  @AdminOnly()
  @Delete(':id')
  @HttpCode(202)
  async remove(@Param('id', tenantId) id: string): Promise<TenantView> {
    return tenantView(await this.tenants.remove(id));
  }

  @ApiOperation({
    summary: "List a tenant's API keys",
    tags: ['tenants'],
    params: { id: tenantIdParam },
    responses: { 200: keyListSchema },
    errors: [404],
  })
  @Get(':id/keys')
  async listKeys(@Param('id', tenantId) id: string, @CurrentPrincipal() caller: Principal) {
    await this.tenants.get(id, caller);
    const keys = await this.keys.list(id, 'tenant');
    return { items: keys.map(keyView) };
  }

  @ApiOperation({
    summary: 'Issue another API key for a tenant',
    tags: ['tenants'],
    params: { id: tenantIdParam },
    body: createKeySchema,
    responses: { 201: issuedKeySchema },
    errors: [404, 429],
  })
  @Post(':id/keys')
  @HttpCode(201)
  async createKey(
    @Param('id', tenantId) id: string,
    @Body(new ZodPipe(createKeySchema)) body: { name: string },
    @CurrentPrincipal() caller: Principal,
  ) {
    await this.tenants.get(id, caller);
    const key = await this.tenants.issueKey(id, body.name);
    return {
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      api_key: key.key,
      created_at: key.createdAt.toISOString(),
    };
  }

  @ApiOperation({
    summary: "Revoke one of a tenant's API keys",
    tags: ['tenants'],
    params: { id: tenantIdParam, keyId: keyIdParam },
    responses: { 204: null },
    errors: [404],
  })
  @Delete(':id/keys/:keyId')
  @HttpCode(204)
  async revokeKey(
    @Param('id', tenantId) id: string,
    @Param('keyId', new ZodPipe(keyIdParam, 'path')) keyId: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<void> {
    await this.tenants.get(id, caller);
    if (!(await this.tenants.revokeKey(id, keyId))) throw notFound(`active key ${keyId}`);
  }
}

export function keyView(key: {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}
