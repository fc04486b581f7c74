import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import {
  type CreateTemplate,
  createTemplateSchema,
  type ReplaceTemplate,
  replaceTemplateSchema,
  templateName,
} from './template.schemas.js';
import {
  templateListSchema,
  type TemplateView,
  templateView,
  templateViewSchema,
} from './template.view.js';
import { TemplatesService } from './templates.service.js';

const nameParam = new ZodPipe(templateName, 'path');

/** A tenant's job templates, plus the built-ins every tenant sees (read-only). */
@TenantOnly()
@Controller('api/v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @ApiOperation({
    summary: 'List your templates and the built-ins',
    tags: ['templates'],
    responses: { 200: templateListSchema },
  })
  @Get()
  async list(@CurrentTenant() caller: TenantPrincipal): Promise<{ items: TemplateView[] }> {
    return { items: (await this.templates.list(caller.tenantId)).map(templateView) };
  }

  @ApiOperation({
    summary: 'Read a template (yours, else the built-in of that name)',
    tags: ['templates'],
    params: { name: templateName },
    responses: { 200: templateViewSchema },
    errors: [404],
  })
  @Get(':name')
  async get(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', nameParam) name: string,
  ): Promise<TemplateView> {
    return templateView(await this.templates.get(caller.tenantId, name));
  }

  @ApiOperation({
    summary: 'Create a template',
    description:
      'A complete JobSpec, plus the result patterns and required inputs. 409 when you already have a template of that name or it is a built-in’s.',
    tags: ['templates'],
    body: createTemplateSchema,
    responses: { 201: templateViewSchema },
    errors: [409],
  })
  @Post()
  @HttpCode(201)
  async create(
    @CurrentTenant() caller: TenantPrincipal,
    @Body(new ZodPipe(createTemplateSchema)) body: CreateTemplate,
  ): Promise<TemplateView> {
    return templateView(await this.templates.create(caller.tenantId, body.name, body.spec));
  }

  @ApiOperation({
    summary: 'Replace the spec of one of your templates',
    description: 'Built-ins are read-only (403).',
    tags: ['templates'],
    params: { name: templateName },
    body: replaceTemplateSchema,
    responses: { 200: templateViewSchema },
    errors: [404],
  })
  @Put(':name')
  async replace(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', nameParam) name: string,
    @Body(new ZodPipe(replaceTemplateSchema)) body: ReplaceTemplate,
  ): Promise<TemplateView> {
    return templateView(await this.templates.replace(caller.tenantId, name, body.spec));
  }

  @ApiOperation({
    summary: 'Delete one of your templates',
    description: 'Built-ins are read-only (403). Jobs made from it are unaffected.',
    tags: ['templates'],
    params: { name: templateName },
    responses: { 204: null },
    errors: [404],
  })
  @Delete(':name')
  @HttpCode(204)
  async delete(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', nameParam) name: string,
  ): Promise<void> {
    await this.templates.delete(caller.tenantId, name);
  }
}
