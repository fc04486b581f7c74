import { Controller, HttpCode, Inject, Optional, Post, Req, Res } from '@nestjs/common';
import { uuidv7 } from '@roam/domain';
import {
  ApiOperation,
  ProblemError,
  problemTypes,
  refuseUnstorableJson,
  validationProblem,
} from '@roam/runtime';
import type { Response } from 'express';
import { z } from 'zod';

import {
  type AuthenticatedRequest,
  CurrentTenant,
  TenantOnly,
  type TenantPrincipal,
} from '../auth/principal.js';
import {
  IDEMPOTENCY_HEADER,
  IdempotencyHandledByRoute,
  IdempotencyService,
} from '../idempotency/idempotency.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { SUMO_TEMPLATE } from '../templates/builtin-templates.js';
import { TemplatesService } from '../templates/templates.service.js';
import { InputsService } from '../uploads/inputs.service.js';
import { UploadSlots } from '../uploads/upload-slots.js';
import {
  drainingSink,
  JOB_UPLOAD_SINK,
  parseForm,
  type ReceivedFile,
  type UploadSink,
} from './jobs-form.parser.js';

/** SUMO-K8's submission form; numbers arrive as strings from a form and as numbers from JSON. */
const compatJobForm = z
  .object({
    scenario_id: z.string().trim().min(1).max(256).describe('Passed to the job as `SCENARIO_ID`.'),
    cpu_request: z.coerce
      .number()
      .positive()
      .max(1000)
      .optional()
      .describe('CPU cores; the `sumo` template’s when absent.'),
    memory_gi: z.coerce
      .number()
      .positive()
      .max(100_000)
      .optional()
      .describe('Memory in GiB; the `sumo` template’s when absent.'),
  })
  .strict()
  .meta({ id: 'SeedJobForm' });

/** The multipart form as the OpenAPI document shows it: the fields, and the scenario's zip. */
const compatJobUpload = compatJobForm.extend({
  sumo_files: z.string().optional().meta({
    description: 'The scenario as a zip (at most 512 MiB); not stored yet (see `message`).',
    format: 'binary',
    contentMediaType: 'application/zip',
  }),
});

const FORM_LIMITS = {
  fieldBytes: 4096,
  fields: 16,
  files: 1,
  /** The zip of a scenario; the inputs work may lower it per tenant. */
  fileBytes: 512 * 1024 * 1024,
};

export const compatJobAcceptedSchema = z
  .object({
    job_id: z.uuid(),
    status: z.literal('PENDING'),
    message: z.string().optional().describe('A note, e.g. about an upload that was not kept.'),
  })
  .meta({ id: 'SeedJobAccepted' });
export type CompatJobAccepted = z.output<typeof compatJobAcceptedSchema>;

function mediaType(request: AuthenticatedRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * SUMO-K8's `curl -d '{"scenario_id": …}'` sends JSON labelled as a urlencoded form, which
 * reads as one field named by the whole JSON text; take it for the JSON it is.
 */
function jsonSentAsForm(fields: Record<string, string>): unknown {
  const names = Object.keys(fields);
  if (names.length !== 1 || fields[names[0]!] !== '' || !names[0]!.trimStart().startsWith('{')) {
    return undefined;
  }
  refuseUnstorableJson(names[0]!);
  try {
    return JSON.parse(names[0]!);
  } catch {
    return undefined;
  }
}

/**
 * `POST /jobs` as SUMO-K8 serves it: a form (`multipart/form-data` or urlencoded, or JSON)
 * with `scenario_id`, `cpu_request` (cores) and `memory_gi`, run as the built-in `sumo`
 * template; answers `{"job_id", "status": "PENDING"}`. The scenario zip (`sumo_files`) is
 * streamed to the upload sink, which for now drains it (the inputs work stores it).
 */
@TenantOnly()
@Controller('jobs')
export class CompatJobsFormController {
  private readonly sink: UploadSink;

  constructor(
    private readonly jobs: JobsService,
    private readonly templates: TemplatesService,
    private readonly idempotency: IdempotencyService,
    @Optional() @Inject(JOB_UPLOAD_SINK) sink?: UploadSink,
    @Optional() private readonly inputs?: InputsService,
    @Optional() private readonly slots?: UploadSlots,
  ) {
    this.sink = sink ?? drainingSink;
  }

  // The form is read here, after authentication, so the interceptor cannot hash it: this
  // route applies Idempotency-Key itself once it has the fields.
  @ApiOperation({
    summary: 'Submit a SUMO simulation (SUMO-K8)',
    description:
      'Runs the built-in `sumo` template with the form’s scenario and resources. The form may be `multipart/form-data` (with the scenario zip as `sumo_files`), urlencoded, or JSON (also JSON sent with a urlencoded content type, as SUMO-K8’s curl example does). `Idempotency-Key` makes a retry safe.',
    tags: ['seed', 'jobs'],
    body: {
      content: {
        'multipart/form-data': compatJobUpload,
        'application/x-www-form-urlencoded': compatJobForm,
        'application/json': compatJobForm,
      },
    },
    responses: { 200: compatJobAcceptedSchema },
    errors: [409, 413, 415, 422],
  })
  @IdempotencyHandledByRoute()
  @Post()
  @HttpCode(200)
  async submit(
    @CurrentTenant() caller: TenantPrincipal,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<unknown> {
    const jobId = uuidv7();
    // A multipart form may carry a scenario zip: it takes an upload slot before any byte is
    // read (429 beyond the tenant's or the replica's uploads), held until the request ends.
    const slot =
      mediaType(request) === 'multipart/form-data' ? this.slots?.claim(caller.tenantId) : undefined;
    // Whatever happens below, a staged upload of this request does not outlive it.
    try {
      return await this.submitWithId(caller, request, response, jobId);
    } finally {
      try {
        await this.inputs?.release(jobId);
      } finally {
        slot?.release();
      }
    }
  }

  private async submitWithId(
    caller: TenantPrincipal,
    request: AuthenticatedRequest,
    response: Response,
    jobId: string,
  ): Promise<unknown> {
    const { body, files } = await this.readBody(request, caller.tenantId, jobId);
    const scope = this.idempotency.scopeOf(
      request.principal,
      request.headers[IDEMPOTENCY_HEADER],
      request.method,
      request.originalUrl,
      {
        body,
        files: files.map((f) => ({ field: f.field, filename: f.filename, bytes: f.bytes })),
        // The upload's bytes: a different archive under the same key is not the same request.
        sha256: this.inputs?.digest(jobId) ?? null,
      },
    );
    if (!scope) return this.accept(caller.tenantId, jobId, body, files);
    const begun = await this.idempotency.begin(scope);
    if (begun.kind === 'replay') return this.idempotency.replay(response, begun);
    try {
      const accepted = await this.accept(caller.tenantId, jobId, body, files);
      await this.idempotency.finish(scope, 200, accepted);
      return accepted;
    } catch (error) {
      await this.idempotency.failed(scope, error, request.originalUrl);
      throw error;
    }
  }

  private async readBody(
    request: AuthenticatedRequest,
    tenantId: string,
    jobId: string,
  ): Promise<{ body: unknown; files: ReceivedFile[] }> {
    const type = mediaType(request);
    if (type === 'application/json') return { body: request.body, files: [] };
    if (type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') {
      const form = await parseForm(request, { tenantId, jobId }, this.sink, FORM_LIMITS);
      return { body: jsonSentAsForm(form.fields) ?? form.fields, files: form.files };
    }
    throw new ProblemError(
      415,
      problemTypes.unsupportedMediaType,
      'Unsupported media type',
      'send the job as multipart/form-data, application/x-www-form-urlencoded or application/json',
    );
  }

  private async accept(
    tenantId: string,
    jobId: string,
    body: unknown,
    files: ReceivedFile[],
  ): Promise<CompatJobAccepted> {
    const parsed = compatJobForm.safeParse(body);
    if (!parsed.success) throw validationProblem('form', parsed.error.issues);
    const form = parsed.data;
    const overrides: Record<string, unknown> = { env: { SCENARIO_ID: form.scenario_id } };
    const resources: Record<string, string> = {};
    if (form.cpu_request !== undefined) resources.cpu = String(form.cpu_request);
    if (form.memory_gi !== undefined) resources.memory = `${form.memory_gi}Gi`;
    if (Object.keys(resources).length > 0) overrides.resources = resources;
    const resolved = await this.templates.resolve(tenantId, {
      template: SUMO_TEMPLATE.name,
      ...overrides,
    });
    // The archive is checked and stored before the job row exists; a refused job removes it.
    const inputs = await this.inputs?.store(tenantId, jobId, resolved.templateId);
    let job;
    try {
      job = await this.jobs.submit(tenantId, {
        ...resolved,
        id: jobId,
        ...(inputs ? { inputs } : {}),
      });
    } catch (error) {
      await this.inputs?.discard(inputs);
      throw error;
    }
    const accepted: CompatJobAccepted = { job_id: job.id, status: 'PENDING' };
    const dropped = files.filter((file) => !file.stored);
    if (dropped.length > 0) {
      accepted.message = `uploaded file ${dropped.map((f) => `"${f.filename}"`).join(', ')} was received but not kept: this roam has no object storage for inputs`;
    }
    return accepted;
  }
}
