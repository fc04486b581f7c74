import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOperation, ProblemError, problemTypes, ZodPipe } from '@roam/runtime';
import type { Response } from 'express';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { OpenStreams } from '../events/open-streams.js';
import { inStreamSlot, streamLogEvents } from '../logs/log-responses.js';
import { logEventStream, logHeaders } from '../logs/logs.schemas.js';
import { LogsService } from '../logs/logs.service.js';
import {
  type CompatJob,
  compatJobIdParam,
  compatJobSchema,
  compatLogsSchema,
  toCompatStatus,
} from './compat.schemas.js';
import { CompatRepository } from './compat.repository.js';
import { compatJobView } from './compat.views.js';

/** SUMO-K8 returns the last 500 lines (`read_namespaced_pod_log(tail_lines=500)`). */
const COMPAT_TAIL_LINES = 500;

const jobId = new ZodPipe(compatJobIdParam, 'path');

/**
 * SUMO-K8's job read routes, in SUMO-K8's shapes (capitalised statuses). SUMO-K8's
 * `POST /jobs` lives beside them in `jobs-form*`.
 */
@TenantOnly()
@Controller('jobs')
export class CompatJobsController {
  constructor(
    private readonly repository: CompatRepository,
    private readonly logs: LogsService,
    private readonly streams: OpenStreams,
  ) {}

  @ApiOperation({
    summary: 'Job status (SUMO-K8)',
    tags: ['seed'],
    params: { job_id: compatJobIdParam },
    responses: { 200: compatJobSchema },
    errors: [404],
  })
  @Get(':job_id')
  async get(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('job_id', jobId) id: string,
  ): Promise<CompatJob> {
    const job = await this.repository.findJob(caller.tenantId, id);
    if (!job)
      throw new ProblemError(404, problemTypes.notFound, 'Not found', `job ${id} not found`);
    return compatJobView(job);
  }

  @ApiOperation({
    summary: "The last 500 lines of a job's log (SUMO-K8)",
    tags: ['seed', 'logs'],
    params: { job_id: compatJobIdParam },
    responses: { 200: compatLogsSchema },
    errors: [404],
  })
  @Get(':job_id/logs')
  async logsOf(@CurrentTenant() caller: TenantPrincipal, @Param('job_id', jobId) id: string) {
    const log = await this.logs.locate(caller.tenantId, id);
    const { text, reason } = await this.logs.read(log, {
      tail: COMPAT_TAIL_LINES,
      timestamps: false,
    });
    return {
      job_id: id,
      pod_name: log.podName,
      logs: text,
      attempt: log.attempt,
      source: log.location.kind,
      reason: reason ?? null,
    };
  }

  @ApiOperation({
    summary: "Stream a job's log as Server-Sent Events (SUMO-K8)",
    description:
      'Same stream as `GET /api/v1/jobs/{id}/logs/stream`; the `end` event carries the status in capitals.',
    tags: ['seed', 'logs'],
    params: { job_id: compatJobIdParam },
    responses: {
      200: { schema: logEventStream, contentType: 'text/event-stream', headers: logHeaders },
    },
    errors: [404, 409, 429],
  })
  @Get(':job_id/logs/stream')
  async stream(
    @CurrentTenant() caller: TenantPrincipal,
    @Param('job_id', jobId) id: string,
    @Headers('authorization') authorization: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    await inStreamSlot(this.streams, caller.tenantId, authorization, async (slot) => {
      const log = await this.logs.locate(caller.tenantId, id);
      const request = { timestamps: false };
      await streamLogEvents(response, this.logs, log, request, slot, toCompatStatus);
    });
  }
}
