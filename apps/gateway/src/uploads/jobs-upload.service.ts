import { Injectable } from '@nestjs/common';
import { uuidv7 } from '@roam/domain';
import { ProblemError, problemTypes } from '@roam/runtime';
import type { Response } from 'express';

import type { AuthenticatedRequest } from '../auth/principal.js';
import { IDEMPOTENCY_HEADER, IdempotencyService } from '../idempotency/idempotency.service.js';
import { type JobView, jobView } from '../jobs/job.view.js';
import { JobsService } from '../jobs/jobs.service.js';
import { parseForm } from '../compat/jobs-form.parser.js';
import { InputsService } from './inputs.service.js';
import { UploadSlots } from './upload-slots.js';

const FORM_LIMITS = {
  /** The `spec` field: a JobSpec or `{"template": …}` as JSON. */
  fieldBytes: 256 * 1024,
  fields: 4,
  files: 1,
  /** The inputs service enforces MAX_FILE_SIZE_MB itself (and answers 413). */
  fileBytes: 64 * 1024 * 1024 * 1024,
};

export const isMultipart = (request: {
  headers: Record<string, string | string[] | undefined>;
}): boolean =>
  String(request.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('multipart/form-data');

/**
 * `POST /api/v1/jobs` as `multipart/form-data`: a `spec` field (the JSON body the route takes
 * otherwise) and an `inputs` file (zip or tar.gz). The archive is checked and stored before the
 * job row is written, and removed again when the job is refused. `Idempotency-Key` is applied
 * here, once the form is read: two requests are the same when their spec and the SHA-256 of
 * their archive are, so a different upload under a used key is refused, never replayed.
 * Each upload holds one of the `UploadSlots` from before its body is read until it ends.
 */
@Injectable()
export class JobUploadsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly inputs: InputsService,
    private readonly idempotency: IdempotencyService,
    private readonly slots: UploadSlots,
  ) {}

  async submit(
    tenantId: string,
    request: AuthenticatedRequest,
    response: Response,
  ): Promise<unknown> {
    const jobId = uuidv7();
    // Before any byte is read: beyond the tenant's or the replica's uploads this is a 429.
    const slot = this.slots.claim(tenantId);
    try {
      const form = await parseForm(request, { tenantId, jobId }, this.inputs, FORM_LIMITS);
      const unexpected = form.files.find((file) => file.field !== 'inputs');
      if (unexpected)
        throw new ProblemError(
          400,
          problemTypes.validation,
          'Request validation failed',
          `form: unexpected file field "${unexpected.field}" (send the archive as "inputs")`,
        );
      const text = form.fields.spec;
      if (text === undefined)
        throw new ProblemError(
          400,
          problemTypes.validation,
          'Request validation failed',
          'form: spec: required (the job as JSON)',
        );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ProblemError(
          400,
          problemTypes.validation,
          'Request validation failed',
          'form: spec: must be JSON',
        );
      }
      const scope = this.idempotency.scopeOf(
        request.principal,
        request.headers[IDEMPOTENCY_HEADER],
        request.method,
        request.originalUrl,
        { spec: body, inputs: this.inputs.digest(jobId) ?? null },
      );
      if (!scope) return await this.accept(tenantId, jobId, body);
      const begun = await this.idempotency.begin(scope);
      if (begun.kind === 'replay') return this.idempotency.replay(response, begun);
      try {
        const accepted = await this.accept(tenantId, jobId, body);
        await this.idempotency.finish(scope, 201, accepted);
        return accepted;
      } catch (error) {
        await this.idempotency.failed(scope, error, request.originalUrl);
        throw error;
      }
    } finally {
      try {
        await this.inputs.release(jobId);
      } finally {
        slot.release();
      }
    }
  }

  private async accept(tenantId: string, jobId: string, body: unknown): Promise<JobView> {
    const resolved = await this.jobs.requestOf(tenantId, body);
    const inputs = await this.inputs.store(tenantId, jobId, resolved.templateId);
    try {
      return jobView(
        await this.jobs.submit(tenantId, { ...resolved, id: jobId, ...(inputs ? { inputs } : {}) }),
      );
    } catch (error) {
      await this.inputs.discard(inputs);
      throw error;
    }
  }
}
