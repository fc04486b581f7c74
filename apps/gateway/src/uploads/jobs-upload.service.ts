import { Injectable } from '@nestjs/common';
import { uuidv7 } from '@roam/domain';
import { ProblemError, problemTypes } from '@roam/runtime';
import type { Request } from 'express';

import type { JobRow } from '../jobs/jobs.repository.js';
import { JobsService } from '../jobs/jobs.service.js';
import { parseForm } from '../compat/jobs-form.parser.js';
import { InputsService } from './inputs.service.js';

const FORM_LIMITS = {
  /** The `spec` field: a JobSpec or `{"template": …}` as JSON. */
  fieldBytes: 256 * 1024,
  fields: 4,
  files: 1,
  /** The inputs service enforces MAX_FILE_SIZE_MB itself (and answers 413). */
  fileBytes: 64 * 1024 * 1024 * 1024,
};

export const isMultipart = (request: Request): boolean =>
  (request.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

/**
 * `POST /api/v1/jobs` as `multipart/form-data`: a `spec` field (the JSON body the route takes
 * otherwise) and an `inputs` file (zip or tar.gz). The archive is checked and stored before the
 * job row is written, and removed again when the job is refused.
 */
@Injectable()
export class JobUploadsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly inputs: InputsService,
  ) {}

  async submit(tenantId: string, request: Request): Promise<JobRow> {
    const jobId = uuidv7();
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
      const resolved = await this.jobs.requestOf(tenantId, body);
      const inputs = await this.inputs.store(tenantId, jobId, resolved.templateId);
      try {
        return await this.jobs.submit(tenantId, {
          ...resolved,
          id: jobId,
          ...(inputs ? { inputs } : {}),
        });
      } catch (error) {
        await this.inputs.discard(inputs);
        throw error;
      }
    } finally {
      await this.inputs.release(jobId);
    }
  }
}
