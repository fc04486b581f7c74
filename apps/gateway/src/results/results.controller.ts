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
  resultListQuery,
  type ResultListQuery,
  resultZipQuery,
  type ResultZipQuery,
  resultListSchema,
} from './results.schemas.js';
import { ResultsService } from './results.service.js';

const jobIdSchema = z.uuid('must be a job id (UUID)');
const jobId = new ZodPipe(jobIdSchema, 'path');
const fileQuery = new ZodPipe(resultFileQuery, 'query');
const listQuery = new ZodPipe(resultListQuery, 'query');
const zipQuery = new ZodPipe(resultZipQuery, 'query');
const pagedHeaders = {
  Link: 'When more files follow: `<…?cursor=…>; rel="next"`, the next page of the listing.',
};

/** Lists one page and points at the next with an RFC 8288 `Link` header. */
async function listPage(
  results: ResultsService,
  response: Response,
  tenantId: string,
  id: string,
  route: string,
  query: ResultListQuery,
): Promise<ResultList> {
  const page = await results.list(tenantId, id, route, query);
  if (page.next_cursor !== null) {
    const next = new URLSearchParams({ cursor: page.next_cursor });
    if (query.limit !== undefined) next.set('limit', String(query.limit));
    if (query.replica !== undefined) next.set('replica', query.replica);
    response.setHeader('Link', `<${route}?${next.toString()}>; rel="next"`);
  }
  return page;
}
const binary = z.string().meta({ format: 'binary' });

/** `/api/v1/jobs/{id}/results…`: list, one file, all as zip, delete. */
@TenantOnly()
@Controller('api/v1/jobs')
export class ResultsController {
  constructor(private readonly results: ResultsService) {}

  @ApiOperation({
    summary: "List a job's result files",
    description:
      'Name, size, sha256 checksum, content type and a short-lived download URL (RESULTS_URL_TTL_SECONDS) per file, one page at a time in path order: `limit` files (default RESULTS_PAGE_SIZE, at most RESULTS_PAGE_MAX), then `next_cursor` (and a `Link: rel="next"` header) while more follow.',
    tags: ['jobs'],
    params: { id: jobIdSchema },
    query: resultListQuery,
    responses: { 200: { schema: resultListSchema, headers: pagedHeaders } },
    errors: [400, 404, 503],
  })
  @Get(':id/results')
  list(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
    @Query(listQuery) query: ResultListQuery,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ResultList> {
    const route = `/api/v1/jobs/${id}/results`;
    return listPage(this.results, response, caller.tenantId, id, route, query);
  }

  @ApiOperation({
    summary: "Download all of a job's results as one zip",
    description:
      "`replica` keeps one replica's files of a multi-pod job (`<replica>/…` in the archive).",
    tags: ['jobs'],
    params: { id: jobIdSchema },
    query: resultZipQuery,
    responses: { 200: { schema: binary, contentType: 'application/zip' } },
    errors: [400, 404, 503],
  })
  @Get(':id/results.zip')
  zip(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
    @Query(zipQuery) query: ResultZipQuery,
    @Res() response: Response,
  ): Promise<void> {
    return sendResultsZip(this.results, response, caller.tenantId, id, query.replica);
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
    description:
      'SUMO-K8 answered every file at once; roam answers the first page (RESULTS_PAGE_SIZE files) in the same shape, with `has_more`, `next_cursor` and a `Link: rel="next"` header when more follow.',
    tags: ['seed'],
    params: { job_id: jobIdSchema },
    query: resultListQuery,
    responses: { 200: { schema: resultListSchema, headers: pagedHeaders } },
    errors: [400, 404, 503],
  })
  @Get(':job_id/results')
  list(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('job_id', jobId) id: string,
    @Query(listQuery) query: ResultListQuery,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ResultList> {
    const route = `/jobs/${id}/results`;
    return listPage(this.results, response, caller.tenantId, id, route, query);
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
