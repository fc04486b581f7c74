import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import type { Response } from 'express';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { OpenStreams } from '../events/open-streams.js';
import { followLogText, inStreamSlot, sendLogText, streamLogEvents } from './log-responses.js';
import {
  jobIdParam,
  logEventStream,
  logHeaders,
  type LogsQuery,
  logsQuery,
  logTextResponse,
  type StreamQuery,
  streamQuery,
} from './logs.schemas.js';
import { LogsService } from './logs.service.js';

const jobId = new ZodPipe(jobIdParam, 'path');

/** `GET /api/v1/jobs/{id}/logs` (text, or chunked with `follow`) and `/logs/stream` (SSE). */
@TenantOnly()
@Controller('api/v1/jobs')
export class LogsController {
  constructor(
    private readonly logs: LogsService,
    private readonly streams: OpenStreams,
  ) {}

  @ApiOperation({
    summary: "Read or follow a job's log",
    description:
      'Plain text. Without `follow`, the log so far (an empty body with `Roam-Log-Reason` when there is none yet). With `follow=true`, a chunked response that streams new lines and ends when the pod ends (or with a last line saying why, when its API key is revoked); 409 before the job has a pod; 429 beyond STREAMS_PER_TENANT open streams. Once the pod is deleted, the log is read from its archive when one exists.',
    tags: ['logs'],
    params: { id: jobIdParam },
    query: logsQuery,
    responses: {
      200: { schema: logTextResponse, contentType: 'text/plain', headers: logHeaders },
    },
    errors: [404, 409, 429],
  })
  @Get(':id/logs')
  async read(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
    @Query(new ZodPipe(logsQuery, 'query')) query: LogsQuery,
    @Headers('authorization') authorization: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    if (!query.follow) {
      const log = await this.logs.locate(caller.tenantId, id, query.attempt, query.replica);
      return sendLogText(response, this.logs, log, query);
    }
    await inStreamSlot(this.streams, caller.tenantId, authorization, async (slot) => {
      const log = await this.logs.locate(caller.tenantId, id, query.attempt, query.replica);
      await followLogText(response, this.logs, log, query, slot);
    });
  }

  @ApiOperation({
    summary: "Stream a job's log as Server-Sent Events",
    description:
      'One `data:` message per line (from the start, or `tail`/`since`), then live lines, then `event: end` when the pod ends (`event: closed` when its API key is revoked). 409 before the job has a pod; 429 beyond STREAMS_PER_TENANT open streams.',
    tags: ['logs'],
    params: { id: jobIdParam },
    query: streamQuery,
    responses: {
      200: { schema: logEventStream, contentType: 'text/event-stream', headers: logHeaders },
    },
    errors: [404, 409, 429],
  })
  @Get(':id/logs/stream')
  async stream(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('id', jobId) id: string,
    @Query(new ZodPipe(streamQuery, 'query')) query: StreamQuery,
    @Headers('authorization') authorization: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    await inStreamSlot(this.streams, caller.tenantId, authorization, async (slot) => {
      const log = await this.logs.locate(caller.tenantId, id, query.attempt, query.replica);
      await streamLogEvents(response, this.logs, log, query, slot);
    });
  }
}
