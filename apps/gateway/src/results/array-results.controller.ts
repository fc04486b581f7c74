import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Controller, Get, Param, Res } from '@nestjs/common';
import { attachmentDisposition } from '@roam/object-store';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import type { Response } from 'express';
import { z } from 'zod';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { ArrayResultsService } from './array-results.service.js';

const arrayIdSchema = z.uuid('must be an array id (UUID)');
const arrayId = new ZodPipe(arrayIdSchema, 'path');
const text = z.string();

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

/** An array's results together: a CSV index of its elements and one zip (docs/api.md#arrays). */
@TenantOnly()
@Controller('api/v1/arrays')
export class ArrayResultsController {
  constructor(private readonly results: ArrayResultsService) {}

  @ApiOperation({
    summary: 'An array’s elements as a CSV index',
    description:
      'One row per element, by index: `index,job_id,status,exit_code,duration_seconds,result_files` (result file paths joined by `;`). Streamed, read 1,000 elements at a time.',
    tags: ['arrays'],
    params: { id: arrayIdSchema },
    responses: { 200: { schema: text, contentType: 'text/csv' } },
    errors: [404],
  })
  @Get(':id/index.csv')
  async index(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Res() response: Response,
  ): Promise<void> {
    const body = await this.results.index(caller.tenantId, id);
    await send(response, body, 'text/csv; charset=utf-8', `array-${id}.csv`);
  }

  @ApiOperation({
    summary: 'Every element’s results as one zip',
    description:
      'Each element’s result files under `<index>/<path>`, streamed: files are opened one at a time as the archive is written. 413 above 200,000 files (download per element then).',
    tags: ['arrays'],
    params: { id: arrayIdSchema },
    responses: { 200: { schema: text.meta({ format: 'binary' }), contentType: 'application/zip' } },
    errors: [404, 413, 503],
  })
  @Get(':id/results.zip')
  async zip(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', arrayId) id: string,
    @Res() response: Response,
  ): Promise<void> {
    const body = await this.results.zip(caller.tenantId, id);
    await send(response, body, 'application/zip', `array-${id}-results.zip`);
  }
}
