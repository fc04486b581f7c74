import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { AdminOnly } from '../auth/principal.js';
import {
  outboxIdParam,
  type ParkedQuery,
  parkedQuery,
  parkedSchema,
  type ParkedView,
  requeuedSchema,
  type RequeuedView,
} from './parked.schemas.js';
import { ParkedService } from './parked.service.js';

const outboxId = new ZodPipe(outboxIdParam, 'path');

/** Parked outbox messages and dead letters, with their reasons; admin keys only. */
@AdminOnly()
@Controller('api/v1/admin/parked')
export class ParkedController {
  constructor(private readonly parked: ParkedService) {}

  @ApiOperation({
    summary: 'Messages the platform gave up on: parked outbox rows and dead letters, with reasons',
    description:
      'Two lists, each paged on its own cursor (`outbox_after`, `dead_letter_after`). Outbox rows are parked after OUTBOX_MAX_ATTEMPTS failed publishes; dead letters are messages a handler failed NATS_MAX_DELIVER times, could not parse, or ran past NATS_MAX_HANDLER_MS.',
    tags: ['admin'],
    query: parkedQuery,
    responses: { 200: parkedSchema },
  })
  @Get()
  list(@Query(new ZodPipe(parkedQuery, 'query')) query: ParkedQuery): Promise<ParkedView> {
    return this.parked.list(query);
  }

  @ApiOperation({
    summary: 'Put a parked outbox message back in the relay queue with a fresh attempt budget',
    tags: ['admin'],
    params: { id: outboxIdParam },
    responses: { 202: requeuedSchema },
    errors: [404, 409],
  })
  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id', outboxId) id: string): Promise<RequeuedView> {
    return this.parked.retry(id);
  }
}
