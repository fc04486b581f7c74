import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { type BatchBody, batchBody, batchBodyDocument, MAX_BATCH } from './job.schemas.js';
import { type BatchItem, batchResultSchema, JobsBatchService } from './jobs-batch.service.js';

/**
 * `POST /api/v1/jobs:batch` (Google AIP-136 custom-method style). The colon is escaped for
 * Express's path syntax, where a bare `:` starts a parameter.
 */
@TenantOnly()
@Controller()
export class JobsBatchController {
  constructor(private readonly batch: JobsBatchService) {}

  @ApiOperation({
    summary: 'Submit many jobs at once, all or nothing',
    description: `Up to ${MAX_BATCH} JobSpecs in one transaction. Every item is validated first: a 400 lists the errors of every bad item by index (\`items\`), a 422 every item that can never run; either way nothing is written.`,
    tags: ['jobs'],
    body: batchBodyDocument,
    responses: { 201: batchResultSchema },
    errors: [409, 422],
  })
  @Post('api/v1/jobs\\:batch')
  @HttpCode(201)
  async submit(
    @CurrentTenant() caller: TenantPrincipal,
    @Body(new ZodPipe(batchBody)) body: BatchBody,
  ): Promise<{ items: BatchItem[]; count: number }> {
    const items = await this.batch.submit(caller.tenantId, body.jobs);
    return { items, count: items.length };
  }
}
