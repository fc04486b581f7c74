import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import { z } from 'zod';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import {
  type ListPipelinesQuery,
  listPipelinesQuery,
  pipelineBodyDocument,
  pipelinePageSchema,
  type PipelineSummary,
  type PipelineView,
  pipelineViewSchema,
} from './pipeline.schemas.js';
import { PipelinesService } from './pipelines.service.js';

const pipelineId = new ZodPipe(z.uuid('must be a pipeline id (UUID)'), 'path');

/** Pipelines: a DAG of jobs and arrays submitted in one request and followed as one object. */
@TenantOnly()
@Controller('api/v1/pipelines')
export class PipelinesController {
  constructor(private readonly pipelines: PipelinesService) {}

  @ApiOperation({
    summary: 'Submit a pipeline',
    description:
      'Named steps, each a job (a JobSpec or `{"template": …}`) or an array (`array: { size, … }`), that wait for each other by name (`depends_on: [{ step, on }]`, `on` as in a JobSpec’s `depends_on`, `type: N_TO_N` between arrays of one size). Everything is written in one transaction or nothing is: 400 for a cycle, an unknown step or a condition that does not fit, 404 for a job id of a step’s own `depends_on` that is not yours, 422 when a step can never run, 429 over the pending cap.',
    tags: ['pipelines'],
    body: pipelineBodyDocument,
    responses: { 201: pipelineViewSchema },
    errors: [404, 409, 422, 429],
  })
  @Post()
  @HttpCode(201)
  async submit(
    @CurrentTenant() caller: TenantPrincipal,
    @Body() body: unknown,
  ): Promise<PipelineView> {
    return this.pipelines.submit(caller.tenantId, body);
  }

  @ApiOperation({
    summary: 'List your pipelines, newest first',
    description:
      'Each with its state and its finished steps by outcome (`GET /api/v1/pipelines/{id}` has the steps); `state` filters, `cursor` pages.',
    tags: ['pipelines'],
    query: listPipelinesQuery,
    responses: { 200: pipelinePageSchema },
  })
  @Get()
  list(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(new ZodPipe(listPipelinesQuery, 'query')) query: ListPipelinesQuery,
  ): Promise<{ items: PipelineSummary[]; next_cursor: string | null }> {
    return this.pipelines.list(caller.tenantId, query);
  }

  @ApiOperation({
    summary: 'A pipeline: its steps with their status and counts',
    description: 'One read of the steps, each with its job’s state or its array’s counters.',
    tags: ['pipelines'],
    params: { id: z.uuid() },
    responses: { 200: pipelineViewSchema },
    errors: [404],
  })
  @Get(':id')
  async get(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', pipelineId) id: string,
  ): Promise<PipelineView> {
    return this.pipelines.get(caller.tenantId, id);
  }

  @ApiOperation({
    summary: 'Cancel a pipeline',
    description:
      'Cancels every unfinished step (the pipeline and its jobs stay readable); idempotent.',
    tags: ['pipelines'],
    params: { id: z.uuid() },
    responses: { 200: pipelineViewSchema },
    errors: [404],
  })
  @Delete(':id')
  async cancel(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', pipelineId) id: string,
  ): Promise<PipelineView> {
    return this.pipelines.cancel(caller.tenantId, id);
  }
}
