import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { AdminOnly } from '../auth/principal.js';
import { issuedKeySchema, keyListSchema } from '../openapi/common.schemas.js';
import { createKeySchema, keyIdParam } from './tenant.schemas.js';
import { keyView } from './tenants.controller.js';
import { notFound, TenantsService } from './tenants.service.js';

/** Admin API keys (`sk-admin-…`), so the bootstrap token can stay in a vault. */
@AdminOnly()
@Controller('api/v1/admin/keys')
export class AdminKeysController {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly tenants: TenantsService,
  ) {}

  @ApiOperation({
    summary: 'List admin API keys',
    tags: ['admin'],
    responses: { 200: keyListSchema },
  })
  @Get()
  async list() {
    return { items: (await this.keys.list(null, 'admin')).map(keyView) };
  }

  @ApiOperation({
    summary: 'Issue an admin API key',
    tags: ['admin'],
    body: createKeySchema,
    responses: { 201: issuedKeySchema },
  })
  @Post()
  @HttpCode(201)
  async create(@Body(new ZodPipe(createKeySchema)) body: { name: string }) {
    const key = await this.keys.issue(
      this.tenants.prisma,
      { tenantId: null, role: 'admin' },
      body.name,
    );
    return {
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      api_key: key.key,
      created_at: key.createdAt.toISOString(),
    };
  }

  @ApiOperation({
    summary: 'Revoke an admin API key',
    tags: ['admin'],
    params: { keyId: keyIdParam },
    responses: { 204: null },
    errors: [404],
  })
  @Delete(':keyId')
  @HttpCode(204)
  async revoke(@Param('keyId', new ZodPipe(keyIdParam, 'path')) keyId: string): Promise<void> {
    if (!(await this.tenants.revokeKey(null, keyId))) throw notFound(`active admin key ${keyId}`);
  }
}
