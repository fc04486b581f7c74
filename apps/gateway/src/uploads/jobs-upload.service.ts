import { Injectable } from '@nestjs/common';
import { uuidv7 } from '@roam/domain';
import { ProblemError, problemTypes, refuseUnstorableJson } from '@roam/runtime';
import type { Response } from 'express';

import type { AuthenticatedRequest } from '../auth/principal.js';
import type { UploadSink } from '../compat/jobs-form.parser.js';
import { arrayView, type ArrayView } from '../jobs/array.view.js';
import { ArraysService } from '../jobs/arrays.service.js';
import { IDEMPOTENCY_HEADER, IdempotencyService } from '../idempotency/idempotency.service.js';
import { type JobView, jobView } from '../jobs/job.view.js';
import { JobsService } from '../jobs/jobs.service.js';
import { parseForm } from '../compat/jobs-form.parser.js';
import { ArrayItemsService } from './array-items.service.js';
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
 * `POST /api/v1/jobs` (or `/api/v1/arrays`) as `multipart/form-data`: a `spec` field (the JSON
 * body the route takes otherwise) and either an `inputs` file (zip or tar.gz) or, for an array,
 * an `items` file (one `ROAM_ARRAY_ITEM` per row). The archive is checked and stored before the
 * job row is written, and removed again when the job is refused; the items are checked as they
 * stream and staged on disk until the array's insert. `Idempotency-Key` is applied here, once
 * the form is read: two requests are the same when their spec and the SHA-256 of their file
 * are, so a different upload under a used key is refused, never replayed.
 * Each upload holds one of the `UploadSlots` from before its body is read until it ends.
 */
@Injectable()
export class JobUploadsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly arrays: ArraysService,
    private readonly inputs: InputsService,
    private readonly items: ArrayItemsService,
    private readonly idempotency: IdempotencyService,
    private readonly slots: UploadSlots,
  ) {}

  async submit(
    tenantId: string,
    request: AuthenticatedRequest,
    response: Response,
    /** `POST /api/v1/arrays`: the body is an array's even without `array` (an items file). */
    route: 'jobs' | 'arrays' = 'jobs',
  ): Promise<unknown> {
    const jobId = uuidv7();
    // Before any byte is read: beyond the tenant's or the replica's uploads this is a 429.
    const slot = this.slots.claim(tenantId);
    try {
      const form = await parseForm(request, { tenantId, jobId }, this.sink, FORM_LIMITS);
      const unexpected = form.files.find((file) => !(file.field in this.sinks));
      if (unexpected)
        throw new ProblemError(
          400,
          problemTypes.validation,
          'Request validation failed',
          `form: unexpected file field "${unexpected.field}" (send an archive as "inputs", an array's items as "items")`,
        );
      const text = form.fields.spec;
      if (text === undefined)
        throw new ProblemError(
          400,
          problemTypes.validation,
          'Request validation failed',
          'form: spec: required (the job as JSON)',
        );
      refuseUnstorableJson(text);
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
        {
          spec: body,
          inputs: this.inputs.digest(jobId) ?? null,
          items: this.items.get(jobId)?.sha256 ?? null,
        },
      );
      if (!scope) return await this.accept(tenantId, jobId, body, route);
      const begun = await this.idempotency.begin(scope);
      if (begun.kind === 'replay') return this.idempotency.replay(response, begun);
      try {
        const accepted = await this.accept(tenantId, jobId, body, route);
        await this.idempotency.finish(scope, 201, accepted);
        return accepted;
      } catch (error) {
        await this.idempotency.failed(scope, error, request.originalUrl);
        throw error;
      }
    } finally {
      try {
        await Promise.all([this.inputs.release(jobId), this.items.release(jobId)]);
      } finally {
        slot.release();
      }
    }
  }

  /** Files by form field; any other file field is refused. */
  private get sinks(): Record<string, UploadSink> {
    return { inputs: this.inputs, items: this.items };
  }

  private readonly sink: UploadSink = {
    accept: (context, file) => (this.sinks[file.field] ?? this.inputs).accept(context, file),
  };

  private async accept(
    tenantId: string,
    jobId: string,
    body: unknown,
    route: 'jobs' | 'arrays',
  ): Promise<JobView | ArrayView> {
    const items = this.items.get(jobId);
    const isArray =
      route === 'arrays' || (body !== null && typeof body === 'object' && 'array' in body);
    if (items ? !isArray : isArray && this.inputs.has(jobId))
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        items
          ? 'form: an "items" file needs `array` in spec'
          : 'form: an array takes an "items" file, not an input archive',
      );
    if (isArray)
      return arrayView(
        await this.arrays.submitBody(
          tenantId,
          body,
          items && {
            count: items.count,
            columns: items.columns,
            chunks: () => this.items.chunks(items),
          },
        ),
      );
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
