import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import type { Response } from 'express';
import { groupName } from '@roam/contracts';
import { z } from 'zod';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import {
  eventPageSchema,
  eventStreamSchema,
  eventView,
  EventsService,
  typeFilter,
} from './events.service.js';
import { OpenStreams } from './open-streams.js';

const position = z
  .string()
  .regex(/^\d{1,18}$/, 'must be an event position')
  .transform((value) => BigInt(value))
  .describe('An event position: only events after it.');

/** `?type=job.succeeded,job.failed` or `?type=job.succeeded&type=job.failed`. */
const types = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) =>
    (Array.isArray(value) ? value : value ? [value] : [])
      .flatMap((entry) => entry.split(','))
      .map((entry) => entry.trim())
      .filter(Boolean),
  )
  .describe(
    'Event types to keep: `job.succeeded`, an area `job.*`, or `*`; comma-separated or repeated. None = every type.',
  )
  .pipe(
    z
      .array(
        z
          .string()
          .max(200)
          .regex(/^[a-z0-9.*]+$/, 'must be an event type'),
      )
      .max(32),
  );

const group = groupName
  .optional()
  .describe('Only events of this job group: its jobs’ events and its `group.finished`.');

const listQuery = z
  .object({
    type: types,
    group,
    after: position.optional(),
    cursor: position.optional().describe('The `next_cursor` of the previous page.'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const streamQuery = z.object({ type: types, group, after: position.optional() }).strict();

/**
 * The caller's events for clients without NATS: a paged log (`position` is the cursor) and
 * the same log as Server-Sent Events, resumable with `Last-Event-ID`.
 */
@TenantOnly()
@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly streams: OpenStreams,
  ) {}

  @ApiOperation({
    summary: 'Your events, oldest first',
    description:
      'A paged log of the events published about your tenant and jobs (what webhooks and NATS subscribers receive). Poll with `next_cursor`.',
    tags: ['events'],
    query: listQuery,
    responses: { 200: eventPageSchema },
  })
  @Get()
  async list(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(new ZodPipe(listQuery, 'query')) query: z.output<typeof listQuery>,
  ) {
    const after = query.cursor ?? query.after ?? 0n;
    const rows = await this.events.list(caller.tenantId, {
      after,
      limit: query.limit + 1,
      filter: typeFilter(query.type),
      ...(query.group !== undefined ? { group: query.group } : {}),
    });
    const items = rows.slice(0, query.limit).map(eventView);
    return {
      items,
      has_more: rows.length > query.limit,
      // Where to continue from, also when this page is empty (poll again with it).
      next_cursor: String(items.at(-1)?.position ?? after),
    };
  }

  @ApiOperation({
    summary: 'Your events as Server-Sent Events',
    description:
      'Replays from `after` (or from now), then streams live events. Reconnecting with `Last-Event-ID` resumes exactly after the last event received. Ends with `event: closed` when the API key it was opened with is revoked; 429 beyond STREAMS_PER_TENANT open streams.',
    tags: ['events'],
    query: streamQuery,
    responses: { 200: { schema: eventStreamSchema, contentType: 'text/event-stream' } },
    errors: [429],
  })
  @Get('stream')
  stream(
    @CurrentTenant() caller: TenantPrincipal,
    @Query(new ZodPipe(streamQuery, 'query')) query: z.output<typeof streamQuery>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @Res() res: Response,
  ): void {
    const slot = this.streams.open(caller.tenantId, authorization);
    const resumeFrom =
      lastEventId !== undefined && /^\d{1,18}$/.test(lastEventId.trim())
        ? BigInt(lastEventId.trim())
        : query.after;
    this.events.stream(caller.tenantId, resumeFrom, typeFilter(query.type), res, slot, query.group);
  }
}
