import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { arrayRequest } from '@roam/contracts';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import { z } from 'zod';

import type { Response } from 'express';

import {
  type AuthenticatedRequest,
  CurrentTenant,
  TenantOnly,
  type TenantPrincipal,
} from '../auth/principal.js';
import { isMultipart, JobUploadsService } from '../uploads/jobs-upload.service.js';
import {
  arrayCancelSchema,
  arrayPageSchema,
  type ArrayCancelView,
  arrayRetrySchema,
  type ArrayRetryView,
  arrayView,
  type ArrayView,
  arrayViewSchema,
  elementIndexParam,
  elementPageSchema,
  type ListArraysQuery,
  listArraysQuery,
  type ListElementsQuery,
  listElementsQuery,
} from './array.view.js';
import { ArraysService } from './arrays.service.js';
import { jobIdParam, namedJobSpec, submitFromTemplateSchema } from './job.schemas.js';
import { type JobView, jobView, jobViewSchema } from './job.view.js';

const arrayId = new ZodPipe(jobIdParam, 'path');
const elementIndex = new ZodPipe(elementIndexParam, 'path');

/** What `POST /api/v1/arrays` accepts, for the OpenAPI document (the service parses it). */
const submitArrayBody = z.union([
  namedJobSpec.extend({ array: arrayRequest }),
  submitFromTemplateSchema,
]);

/** The same as `multipart/form-data`, the items in a file. */
const submitArrayWithItems = z.object({
  spec: z
    .string()
    .describe(
      "The JSON body as above; `array.size` may be left out (the file's row count) and `array.items` is not allowed.",
    ),
  items: z
    .string()
    .meta({ format: 'binary' })
    .describe(
      'One `ROAM_ARRAY_ITEM` per row: plain lines, CSV (`.csv` or `text/csv`: a header row, given to every element as `ROAM_ARRAY_COLUMNS`, then one row per element) or JSON lines (`.jsonl`, `.ndjson` or `application/x-ndjson`). Rows of at most 4096 characters, at most ARRAY_MAX_SIZE of them.',
    ),
});

/**
 * Job arrays: one spec run as `size` elements, each a job with `ROAM_ARRAY_INDEX`. Submitted
 * with `POST /api/v1/arrays` or `POST /api/v1/jobs` with `array` in the body (the same route).
 */
@TenantOnly()
@Controller()
export class ArraysController {
  constructor(
    private readonly arrays: ArraysService,
    private readonly uploads: JobUploadsService,
  ) {}

  @ApiOperation({
    summary: 'Submit a job array',
    description:
      'A JobSpec (or `{"template": …}`) with `array: { size, parallelism?, items? }`, or as `multipart/form-data` with the items in an `items` file: `size` elements (at most ARRAY_MAX_SIZE) are created in one statement, each a job with `ROAM_ARRAY_INDEX` (0…size-1) and `ROAM_ARRAY_SIZE` in its environment. `POST /api/v1/jobs` with `array` does the same. 422 when the spec can never run, 429 when the elements would exceed the pending cap; either way nothing is written.',
    tags: ['arrays'],
    body: {
      content: {
        'application/json': submitArrayBody,
        'multipart/form-data': submitArrayWithItems,
      },
    },
    responses: { 201: arrayViewSchema },
    errors: [409, 413, 422, 429],
  })
  @Post('api/v1/arrays')
  @HttpCode(201)
  async submit(
    @CurrentTenant() caller: TenantPrincipal,
    @Body() body: unknown,
    @Req() http: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<unknown> {
    // multipart/form-data: `spec` (this JSON body) + `items` (one ROAM_ARRAY_ITEM per row).
    if (isMultipart(http)) return this.uploads.submit(caller.tenantId, http, response, 'arrays');
    return arrayView(await this.arrays.submitBody(caller.tenantId, body));
  }

  @ApiOperation({
    summary: 'List your job arrays, newest first, each with its counts per phase',
    tags: ['arrays'],
    query: listArraysQuery,
    responses: { 200: arrayPageSchema },
  })
  @Get('api/v1/arrays')
  async list(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(new ZodPipe(listArraysQuery, 'query')) query: ListArraysQuery,
  ): Promise<{ items: ArrayView[]; next_cursor: string | null }> {
    const rows = await this.arrays.list(caller.tenantId, {
      ...(query.cursor !== undefined ? { before: query.cursor } : {}),
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit).map(arrayView);
    return { items, next_cursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  @ApiOperation({
    summary: 'An array’s summary: elements per phase and progress',
    description: 'Read from counters kept as the elements change: one row, whatever the size.',
    tags: ['arrays'],
    params: { id: jobIdParam },
    responses: { 200: arrayViewSchema },
    errors: [404],
  })
  @Get('api/v1/arrays/:id')
  async get(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
  ): Promise<ArrayView> {
    return arrayView(await this.arrays.get(caller.tenantId, id));
  }

  @ApiOperation({
    summary: 'An array’s elements, by index',
    description: 'Each element is a job: its logs and results are those of its `id`.',
    tags: ['arrays'],
    params: { id: jobIdParam },
    query: listElementsQuery,
    responses: { 200: elementPageSchema },
    errors: [404],
  })
  @Get('api/v1/arrays/:id/elements')
  async elements(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Query(new ZodPipe(listElementsQuery, 'query')) query: ListElementsQuery,
  ): Promise<{ items: JobView[]; next_cursor: number | null }> {
    const rows = await this.arrays.elements(caller.tenantId, id, {
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.cursor !== undefined ? { after: query.cursor } : {}),
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit).map(jobView);
    const last = items.at(-1)?.array?.index;
    return { items, next_cursor: rows.length > query.limit ? (last ?? null) : null };
  }

  @ApiOperation({
    summary: 'One element of an array',
    description: 'The element job at `index`: its status, attempt, exit code and id.',
    tags: ['arrays'],
    params: { id: jobIdParam, index: elementIndexParam },
    responses: { 200: jobViewSchema },
    errors: [404],
  })
  @Get('api/v1/jobs/:id/elements/:index')
  async element(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Param('index', elementIndex) index: number,
  ): Promise<JobView> {
    return jobView(await this.arrays.element(caller.tenantId, id, index));
  }

  @ApiOperation({
    summary: 'One element of an array',
    description: 'The same as `GET /api/v1/jobs/{id}/elements/{index}`.',
    tags: ['arrays'],
    params: { id: jobIdParam, index: elementIndexParam },
    responses: { 200: jobViewSchema },
    errors: [404],
  })
  @Get('api/v1/arrays/:id/elements/:index')
  elementOfArray(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Param('index', elementIndex) index: number,
  ): Promise<JobView> {
    return this.element(caller, id, index);
  }

  @ApiOperation({
    summary: 'Cancel every unfinished element of an array',
    description:
      'An array with at most 1,000 unfinished elements has them cancelled in the request (200). A larger one answers 202 at once: the cancel is recorded and done in the background, 1,000 elements per transaction; its summary shows `cancelling: true` and the counts advance until `done`. Idempotent: an array with nothing left to cancel answers `cancelled: 0`.',
    tags: ['arrays'],
    params: { id: jobIdParam },
    responses: { 200: arrayCancelSchema, 202: arrayCancelSchema },
    errors: [404],
  })
  @Delete('api/v1/arrays/:id')
  async cancel(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ArrayCancelView> {
    const outcome = await this.arrays.cancel(caller.tenantId, id);
    response.status(outcome.accepted ? 202 : 200);
    return { cancelled: outcome.cancelled, array: arrayView(outcome.array) };
  }

  @ApiOperation({
    summary: 'Run an array’s failed elements again',
    description:
      'Every failed element goes back to `Submitted` with its `attempt` counted on (its history and events show a `job.retried` step); the others are left as they are, and the summary counts them again as they run. 409 while any element is still unfinished, or when none failed.',
    tags: ['arrays'],
    params: { id: jobIdParam },
    responses: { 200: arrayRetrySchema },
    errors: [404, 409],
  })
  @Post('api/v1/arrays/:id/retry')
  @HttpCode(200)
  async retry(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
  ): Promise<ArrayRetryView> {
    const outcome = await this.arrays.retryFailed(caller.tenantId, id);
    return { retried: outcome.retried, array: arrayView(outcome.array) };
  }
}
