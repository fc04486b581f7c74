import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Optional,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import type { Response } from 'express';
import { z } from 'zod';

import {
  type AuthenticatedRequest,
  CurrentTenant,
  TenantOnly,
  type TenantPrincipal,
} from '../auth/principal.js';
import { isMultipart, JobUploadsService } from '../uploads/jobs-upload.service.js';
import { arrayView } from './array.view.js';
import { ArraysService } from './arrays.service.js';
import { JobExplainService } from './job-explain.service.js';
import { type ExplainView, explainViewSchema } from './job-explain.view.js';
import { jobIdParam, type ListJobsQuery, listJobsQuery, submitJobBody } from './job.schemas.js';
import {
  type JobEventView,
  jobEventsSchema,
  jobEventView,
  jobPageSchema,
  type JobStatusView,
  jobStatusView,
  jobStatusViewSchema,
  type JobView,
  jobView,
  jobViewSchema,
} from './job.view.js';
import { JobsService } from './jobs.service.js';

const jobId = new ZodPipe(jobIdParam, 'path');

/** The submit with inputs, as documented (the upload service reads the parts itself). */
const submitWithInputs = z.object({
  spec: z
    .string()
    .describe('The JobSpec (or template submit) as JSON, the same body as `application/json`.'),
  inputs: z
    .string()
    .meta({ format: 'binary' })
    .describe(
      'The job inputs, a zip or tar.gz archive; unpacked into the pod (docs/storage.md) before the command runs.',
    ),
});

@TenantOnly()
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly explainer: JobExplainService,
    private readonly arrays: ArraysService,
    @Optional() private readonly uploads?: JobUploadsService,
  ) {}

  @ApiOperation({
    summary: 'Submit a job',
    description:
      'The body is a JobSpec, or `{"template": "<name>", ...overrides}`: the overrides are merge-patched (RFC 7396) onto the template and the result is validated as a JobSpec. With `array: { size, parallelism? }` it submits a job array and answers as `POST /api/v1/arrays` does. 422 when the job can never run (larger than the tenant’s quota or than any node); `Idempotency-Key` makes a retry safe.',
    tags: ['jobs'],
    body: {
      content: { 'application/json': submitJobBody, 'multipart/form-data': submitWithInputs },
    },
    responses: { 201: jobViewSchema },
    errors: [409, 422],
  })
  @Post()
  @HttpCode(201)
  async submit(
    @CurrentTenant() caller: TenantPrincipal,
    @Body() body: unknown,
    @Req() http: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<unknown> {
    // multipart/form-data: `spec` (this JSON body) + `inputs` (an archive); docs/storage.md.
    if (this.uploads && isMultipart(http))
      return this.uploads.submit(caller.tenantId, http, response);
    if (body !== null && typeof body === 'object' && 'array' in body)
      return arrayView(await this.arrays.submitBody(caller.tenantId, body));
    const request = await this.jobs.requestOf(caller.tenantId, body);
    return jobView(await this.jobs.submit(caller.tenantId, request));
  }

  @ApiOperation({
    summary: 'List jobs, newest first',
    tags: ['jobs'],
    query: listJobsQuery,
    responses: { 200: jobPageSchema },
  })
  @Get()
  async list(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(new ZodPipe(listJobsQuery, 'query')) query: ListJobsQuery,
  ): Promise<{ items: JobView[]; next_cursor: string | null }> {
    const rows = await this.jobs.list(caller.tenantId, {
      statuses: query.status,
      queue: query.queue,
      group: query.group,
      arrayId: query.array,
      labels: query.labelSelector,
      createdSince: query.created_since,
      createdUntil: query.created_until,
      cursor: query.cursor,
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit).map(jobView);
    return { items, next_cursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  @ApiOperation({
    summary: 'Read a job',
    tags: ['jobs'],
    params: { id: jobIdParam },
    responses: { 200: jobViewSchema },
    errors: [404],
  })
  @Get(':id')
  async get(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<JobView> {
    return jobView(await this.jobs.get(caller.tenantId, id));
  }

  @ApiOperation({
    summary: "A job's state, without its spec",
    tags: ['jobs'],
    params: { id: jobIdParam },
    responses: { 200: jobStatusViewSchema },
    errors: [404],
  })
  @Get(':id/status')
  async status(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<JobStatusView> {
    return jobStatusView(await this.jobs.get(caller.tenantId, id));
  }

  @ApiOperation({
    summary: "A job's history of status and phase changes, oldest first",
    tags: ['jobs'],
    params: { id: jobIdParam },
    responses: { 200: jobEventsSchema },
    errors: [404],
  })
  @Get(':id/events')
  async events(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<{ job_id: string; items: JobEventView[] }> {
    const rows = await this.jobs.events(caller.tenantId, id);
    return { job_id: id, items: rows.map(jobEventView) };
  }

  @ApiOperation({
    summary: 'Explain why a job is still pending',
    description:
      'Runs the scheduler’s own admission decision on the current state and says what blocks the job, where it stands in the queues, and what would let it move.',
    tags: ['jobs'],
    params: { id: jobIdParam },
    responses: { 200: explainViewSchema },
    errors: [404],
  })
  @Get(':id/explain')
  explain(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<ExplainView> {
    return this.explainer.explain(caller.tenantId, id);
  }

  @ApiOperation({
    summary: 'Cancel a job',
    description: 'Idempotent: cancelling a finished or already cancelled job returns it unchanged.',
    tags: ['jobs'],
    params: { id: jobIdParam },
    responses: { 200: jobViewSchema },
    errors: [404],
  })
  @Delete(':id')
  async cancel(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<JobView> {
    return jobView(await this.jobs.cancel(caller.tenantId, id));
  }
}
