import { Controller, Delete, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import type { Request, Response } from 'express';
import { z } from 'zod';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { sendResultFile, sendResultsZip, wildcardPath } from './results.http.js';
import {
  deletedResultsSchema,
  resultFileQuery,
  type ResultList,
  resultListSchema,
} from './results.schemas.js';
import { ResultsService } from './results.service.js';

const jobIdSchema = z.uuid('must be a job id (UUID)');
const jobId = new ZodPipe(jobIdSchema, 'path');
const fileQuery = new ZodPipe(resultFileQuery, 'query');
const binary = z.string().meta({ format: 'binary' });

/** `/api/v1/jobs/{id}/results…`: list, one file, all as zip, delete. */
@TenantOnly()
@Controller('api/v1/jobs')
export class ResultsController {
  constructor(private readonly results: ResultsService) {}

  @ApiOperation({
    summary: "List a job's result files",
    description:
      'Name, size, sha256 checksum, content type and a short-lived download URL (RESULTS_URL_TTL_SECONDS) per file.',
    tags: ['jobs'],
    params: { id: jobIdSchema },
    responses: { 200: resultListSchema },
    errors: [404, 503],
  })
  @Get(':id/results')
  list(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<ResultList> {
    return this.results.list(caller.tenantId, id, `/api/v1/jobs/${id}/results`);
  }

  @ApiOperation({
    summary: "Download all of a job's results as one zip",
    tags: ['jobs'],
    params: { id: jobIdSchema },
    responses: { 200: { schema: binary, contentType: 'application/zip' } },
    errors: [404, 503],
  })
  @Get(':id/results.zip')
  zip(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
    @Res() response: Response,
  ): Promise<void> {
    return sendResultsZip(this.results, response, caller.tenantId, id);
  }

  @ApiOperation({
    summary: 'Download one result file',
    description: 'Streams the file; `redirect=true` answers 302 to its presigned URL instead.',
    tags: ['jobs'],
    params: { id: jobIdSchema, path: z.string() },
    query: resultFileQuery,
    responses: {
      200: { schema: binary, contentType: 'application/octet-stream' },
      302: { description: 'To the presigned URL' },
    },
    errors: [404, 503],
  })
  @Get(':id/results/*path')
  file(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
    @Query(fileQuery) query: z.output<typeof resultFileQuery>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    return sendResultFile(
      this.results,
      response,
      caller.tenantId,
      id,
      wildcardPath(request),
      query.redirect,
    );
  }

  @ApiOperation({
    summary: "Delete a job's results",
    tags: ['jobs'],
    params: { id: jobIdSchema },
    responses: { 200: deletedResultsSchema },
    errors: [404, 503],
  })
  @Delete(':id/results')
  async remove(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
  ): Promise<{ job_id: string; deleted: number }> {
    return { job_id: id, deleted: await this.results.remove(caller.tenantId, id) };
  }
}

/** SUMO-K8's `GET /jobs/{job_id}/results` (and the same downloads under `/jobs`). */
@TenantOnly()
@Controller('jobs')
export class CompatResultsController {
  constructor(private readonly results: ResultsService) {}

  @ApiOperation({
    summary: "Get a job's result files (SUMO-K8)",
    tags: ['seed'],
    params: { job_id: jobIdSchema },
    responses: { 200: resultListSchema },
    errors: [404, 503],
  })
  @Get(':job_id/results')
  list(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('job_id', jobId) id: string,
  ): Promise<ResultList> {
    return this.results.list(caller.tenantId, id, `/jobs/${id}/results`);
  }

  @ApiOperation({
    summary: "Download all of a job's results as one zip (SUMO-K8)",
    tags: ['seed'],
    params: { job_id: jobIdSchema },
    responses: { 200: { schema: binary, contentType: 'application/zip' } },
    errors: [404, 503],
  })
  @Get(':job_id/results.zip')
  zip(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('job_id', jobId) id: string,
    @Res() response: Response,
  ): Promise<void> {
    return sendResultsZip(this.results, response, caller.tenantId, id);
  }

  @ApiOperation({
    summary: 'Download one result file (SUMO-K8)',
    tags: ['seed'],
    params: { job_id: jobIdSchema, path: z.string() },
    query: resultFileQuery,
    responses: {
      200: { schema: binary, contentType: 'application/octet-stream' },
      302: { description: 'To the presigned URL' },
    },
    errors: [404, 503],
  })
  @Get(':job_id/results/*path')
  file(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('job_id', jobId) id: string,
    @Query(fileQuery) query: z.output<typeof resultFileQuery>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    return sendResultFile(
      this.results,
      response,
      caller.tenantId,
      id,
      wildcardPath(request),
      query.redirect,
    );
  }
}
