import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Controller, Get, Param, Res } from '@nestjs/common';
import { groupName } from '@roam/contracts';
import { attachmentDisposition } from '@roam/object-store';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import type { Response } from 'express';
import { z } from 'zod';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { arraySet, groupSet, ResultsTogetherService } from './results-together.service.js';

const arrayIdSchema = z.uuid('must be an array id (UUID)');
const arrayId = new ZodPipe(arrayIdSchema, 'path');
const group = new ZodPipe(groupName, 'path');
const text = z.string();
const csv = { 200: { schema: text, contentType: 'text/csv' } };
const zip = { 200: { schema: text.meta({ format: 'binary' }), contentType: 'application/zip' } };
const INDEX_COLUMNS = 'job_id,status,exit_code,duration_seconds,result_files';
const ZIP_DESCRIPTION =
  'streamed: files are opened one at a time as the archive is written. 413 above 200,000 files (download per job then).';

async function send(
  response: Response,
  body: Readable,
  contentType: string,
  filename: string,
): Promise<void> {
  response.status(200);
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Disposition', attachmentDisposition(filename));
  await pipeline(body, response);
}

/**
 * Results together, for an array's elements or a group's jobs: a CSV index of the jobs and one
 * zip of their result files (docs/api.md#arrays, docs/api.md#groups).
 */
@TenantOnly()
@Controller('api/v1')
export class ResultsTogetherController {
  constructor(private readonly results: ResultsTogetherService) {}

  @ApiOperation({
    summary: 'An array’s elements as a CSV index',
    operationId: 'ArrayResults_index',
    description: `One row per element, by index: \`index,${INDEX_COLUMNS}\` (result file paths joined by \`;\`). Streamed, read 1,000 elements at a time.`,
    tags: ['arrays'],
    params: { id: arrayIdSchema },
    responses: csv,
    errors: [404],
  })
  @Get('arrays/:id/index.csv')
  async arrayIndex(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Res() response: Response,
  ): Promise<void> {
    const body = await this.results.index(caller.tenantId, arraySet(id));
    await send(response, body, 'text/csv; charset=utf-8', `array-${id}.csv`);
  }

  @ApiOperation({
    summary: 'Every element’s results as one zip',
    operationId: 'ArrayResults_zip',
    description: `Each element’s result files under \`<index>/<path>\`, ${ZIP_DESCRIPTION}`,
    tags: ['arrays'],
    params: { id: arrayIdSchema },
    responses: zip,
    errors: [404, 413, 503],
  })
  @Get('arrays/:id/results.zip')
  async arrayZip(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Res() response: Response,
  ): Promise<void> {
    const body = await this.results.zip(caller.tenantId, arraySet(id));
    await send(response, body, 'application/zip', `array-${id}-results.zip`);
  }

  @ApiOperation({
    summary: 'A group’s jobs as a CSV index',
    operationId: 'GroupResults_index',
    description: `One row per job of the group, by job id: \`name,${INDEX_COLUMNS}\` (result file paths joined by \`;\`). Streamed, read 1,000 jobs at a time.`,
    tags: ['groups'],
    params: { name: groupName },
    responses: csv,
    errors: [404],
  })
  @Get('groups/:name/index.csv')
  async groupIndex(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', group) name: string,
    @Res() response: Response,
  ): Promise<void> {
    const body = await this.results.index(caller.tenantId, groupSet(name));
    await send(response, body, 'text/csv; charset=utf-8', `group-${name}.csv`);
  }

  @ApiOperation({
    summary: 'Every group job’s results as one zip',
    operationId: 'GroupResults_zip',
    description: `Each job’s result files under \`<job name>-<job id>/<path>\`, ${ZIP_DESCRIPTION}`,
    tags: ['groups'],
    params: { name: groupName },
    responses: zip,
    errors: [404, 413, 503],
  })
  @Get('groups/:name/results.zip')
  async groupZip(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('name', group) name: string,
    @Res() response: Response,
  ): Promise<void> {
    const body = await this.results.zip(caller.tenantId, groupSet(name));
    await send(response, body, 'application/zip', `group-${name}-results.zip`);
  }
}
