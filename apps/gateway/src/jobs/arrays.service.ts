import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { arrayRequest, type JobStatus } from '@roam/contracts';
import { uuidv7 } from '@roam/domain';
import {
  applyInBatches,
  cancelArrayElements,
  JOB_SET_BATCH,
  JobLedger,
  lockArrayElements,
  stageArrayItems,
  submitJobArray,
} from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, ProblemError, problemTypes, validationProblem } from '@roam/runtime';
import { z } from 'zod';

import { SOURCE } from '../source.js';
import { DependenciesService, requestedOf } from './dependencies.service.js';
import { type ArrayRow, ArraysRepository } from './arrays.repository.js';
import type { JobRow } from './jobs.repository.js';
import { newJobRecord } from './jobs.repository.js';
import { defaultJobName, JobsService, type SubmitRequest } from './jobs.service.js';
import { PendingCap } from './pending-cap.js';

export const arrayNotFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `array ${id} not found`);

const elementNotFound = (id: string, index: number) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `array ${id} has no element ${index}`);

/** An index of a large array whose row the scheduler has not created yet (seconds after submit). */
const elementNotCreatedYet = (id: string, index: number) =>
  new ProblemError(
    404,
    problemTypes.notFound,
    'Not found',
    `element ${index} of array ${id} is not created yet: a large array's elements are created in the seconds after its submit; try again shortly`,
  );

/** Items from an uploaded file, checked and staged (`ArrayItemsService`). */
export interface ItemsUpload {
  count: number;
  /** A CSV file's header row, given to every element as `ROAM_ARRAY_COLUMNS`. */
  columns: string | undefined;
  chunks(): AsyncIterable<readonly string[]>;
}

/** A checked `array` member. */
export interface ArraySize {
  size: number;
  parallelism?: number | undefined;
  items?: string[] | ItemsUpload | undefined;
}

/** `array` of a submit whose items come in a file: `size`, if given, must be its row count. */
const uploadArrayRequest = z
  .object({
    size: z.number().int().min(1).optional(),
    parallelism: z.number().int().min(1).optional(),
  })
  .strict();

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

@Injectable()
export class ArraysService {
  private readonly ledger: JobLedger;
  private readonly request: z.ZodType<ArraySize>;
  private readonly max: number;

  constructor(
    private readonly repository: ArraysRepository,
    private readonly jobs: JobsService,
    private readonly pendingCap: PendingCap,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly dependencies: DependenciesService,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
    const max = config.ARRAY_MAX_SIZE;
    this.max = max;
    this.request = arrayRequest.superRefine((array, context) => {
      if (array.size > max)
        context.addIssue({
          code: 'custom',
          path: ['size'],
          message: `must be at most ${max} (ARRAY_MAX_SIZE)`,
        });
      if (array.parallelism !== undefined && array.parallelism > max)
        context.addIssue({
          code: 'custom',
          path: ['parallelism'],
          message: `must be at most ${max} (ARRAY_MAX_SIZE)`,
        });
    });
  }

  /**
   * A submit body with `array` (`POST /api/v1/arrays`, or `POST /api/v1/jobs` with `array`):
   * `array` is taken out and checked, the rest is a submit body as `POST /api/v1/jobs` takes it.
   * With `upload` (an items file), the file's rows are the items and its row count the size.
   */
  async submitBody(tenantId: string, body: unknown, upload?: ItemsUpload): Promise<ArrayRow> {
    const { array, ...rest } = isRecord(body) ? body : { array: undefined };
    const size = upload ? this.parseWithUpload(array, upload) : this.parse(array);
    const request = await this.jobs.requestOf(tenantId, isRecord(body) ? rest : body);
    return this.submit(tenantId, request, size);
  }

  private parseWithUpload(value: unknown, upload: ItemsUpload): ArraySize {
    const parsed = uploadArrayRequest.safeParse(value ?? {});
    if (!parsed.success) {
      throw validationProblem(
        'body',
        parsed.error.issues.map((issue) => ({ ...issue, path: ['array', ...issue.path] })),
      );
    }
    const { size, parallelism } = parsed.data;
    if (size !== undefined && size !== upload.count)
      throw new ProblemError(
        422,
        problemTypes.validation,
        'Request validation failed',
        `array.size is ${size} but the items file has ${upload.count} items (leave size out to take the file's count)`,
      );
    if (parallelism !== undefined && parallelism > this.max)
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        `body: array.parallelism: must be at most ${this.max} (ARRAY_MAX_SIZE)`,
        { errors: [{ path: 'array.parallelism', message: `must be at most ${this.max}` }] },
      );
    return { size: upload.count, parallelism, items: upload };
  }

  /** The `array` member of a submit body, bounded by `ARRAY_MAX_SIZE`; 400 otherwise. */
  parse(value: unknown): ArraySize {
    const parsed = this.request.safeParse(value);
    if (!parsed.success) {
      throw validationProblem(
        'body',
        parsed.error.issues.map((issue) => ({ ...issue, path: ['array', ...issue.path] })),
      );
    }
    return parsed.data;
  }

  /**
   * One array and its first elements in one statement (`submitJobArray`; the scheduler creates
   * the rest of a large array's element rows). Refused whole, with
   * nothing written, when the spec can never run (422) or the elements would take the tenant
   * over its pending cap (429).
   */
  async submit(tenantId: string, request: SubmitRequest, array: ArraySize): Promise<ArrayRow> {
    if (request.inputs) {
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        'an array cannot take an input archive upload',
      );
    }
    const upload = array.items !== undefined && !Array.isArray(array.items) ? array.items : null;
    const spec =
      upload?.columns !== undefined
        ? { ...request.spec, env: { ...request.spec.env, ROAM_ARRAY_COLUMNS: upload.columns } }
        : request.spec;
    // An element of multi-host TPU slices is its hosts' pods, as a lone job is (submitVerdict).
    const { resources, podSets } = await this.jobs.assertCanEverRun(
      tenantId,
      spec,
      "an array's elements",
    );
    const id = uuidv7();
    const element = newJobRecord({
      id,
      tenantId,
      name: spec.name ?? defaultJobName(id),
      spec,
      cpuMillis: resources.cpuMillis,
      memoryBytes: resources.memoryBytes,
      ...(podSets ? { gpu: resources.gpu, podSets } : {}),
      ...(request.templateId ? { templateId: request.templateId } : {}),
    });
    const inserted = await this.repository.prisma.$transaction(
      async (tx) => {
        await this.pendingCap.assertRoomInTransaction(tx, tenantId, array.size);
        const requested = requestedOf(spec);
        const [checked = []] = await this.dependencies.check(
          tx,
          tenantId,
          requested.length === 0
            ? []
            : [{ dependent: { kind: 'array', size: array.size }, requested, path: 'depends_on' }],
        );
        if (upload) await stageArrayItems(tx, upload.chunks());
        const count = await submitJobArray(tx, {
          id,
          size: array.size,
          parallelism: array.parallelism ?? null,
          element,
          items: upload ? 'staged' : Array.isArray(array.items) ? array.items : null,
          // An N_TO_N dependent's elements each count their dependency: all rows now.
          allElements: checked.some((d) => d.nToN !== undefined),
        });
        // The whole array waits on its dependencies; on an N_TO_N one, element by element.
        if (count > 0 && checked.length > 0)
          await this.dependencies.record(tx, tenantId, [
            { dependent: { arrayId: id }, dependencies: checked },
          ]);
        return count;
      },
      { timeout: 60_000 },
    );
    if (inserted === 0) {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `tenant "${tenantId}" is being deleted`,
      );
    }
    return this.get(tenantId, id);
  }

  list(tenantId: string, query: { before?: string; limit: number }): Promise<ArrayRow[]> {
    return this.repository.list(tenantId, query);
  }

  async get(tenantId: string, id: string): Promise<ArrayRow> {
    const array = await this.repository.find(tenantId, id);
    if (!array) throw arrayNotFound(id);
    return array;
  }

  async element(tenantId: string, id: string, index: number): Promise<JobRow> {
    const element = await this.repository.element(tenantId, id, index);
    if (element) return element;
    const array = await this.get(tenantId, id);
    if (index < array.size) throw elementNotCreatedYet(id, index);
    throw elementNotFound(id, index);
  }

  async elements(
    tenantId: string,
    id: string,
    query: { status?: JobStatus; after?: number; limit: number },
  ): Promise<JobRow[]> {
    await this.get(tenantId, id);
    return this.repository.elements(tenantId, id, query);
  }

  /**
   * Cancels the unfinished elements. Up to one batch (`JOB_SET_BATCH`) is cancelled here; a
   * larger remainder is recorded (`cancel_requested_at`) and answered at once (`accepted`):
   * the reconciler's array-cancel loop walks it, batch by batch, while the summary's counters
   * show it advance. Idempotent (`cancelled: 0` when none is left).
   */
  async cancel(
    tenantId: string,
    id: string,
  ): Promise<{ cancelled: number; accepted: boolean; array: ArrayRow }> {
    const array = await this.get(tenantId, id);
    const unfinished = array.submitted + array.queued + array.admitted + array.running;
    // Element rows still to be created are cancelled by the walk once they exist.
    if (unfinished > JOB_SET_BATCH || array.materialized < array.size) {
      const requested = await this.repository.requestCancel(tenantId, id);
      return { cancelled: 0, accepted: true, array: requested ?? array };
    }
    const cancelled = await cancelArrayElements(this.outbox, this.ledger, SOURCE, {
      id,
      tenantId,
    });
    return { cancelled, accepted: false, array: await this.get(tenantId, id) };
  }

  /**
   * Runs every failed element again (the ledger's `rerun`: back to `Submitted` with its attempt
   * counted on), in batches. 409 while any element is unfinished (the array is still running,
   * or a retry is under way) or when none failed.
   */
  async retryFailed(tenantId: string, id: string): Promise<{ retried: number; array: ArrayRow }> {
    const message = `failed elements of array ${id} retried through the API`;
    let checked = false;
    const retried = await applyInBatches<number>(
      this.outbox,
      this.ledger,
      async (tx, after, limit) => {
        if (!checked) {
          // Under the array's lock, so two retries cannot both pass.
          const array = await this.repository.lock(tx, tenantId, id);
          if (!array) throw arrayNotFound(id);
          assertRetryable(array);
          // A cancel of the array is over (nothing unfinished): the rerun elements must run.
          await this.repository.clearCancel(tx, tenantId, id);
          checked = true;
        }
        return lockArrayElements(tx, tenantId, id, ['failed'], after, limit);
      },
      (job) => ({
        job,
        events: [{ type: 'rerun', message }],
        set: {
          attempt: job.attempt + 1,
          exitCode: null,
          admittedAt: null,
          startedAt: null,
          finishedAt: null,
          retryAt: null,
          placement: null,
        },
      }),
    );
    return { retried, array: await this.get(tenantId, id) };
  }
}

function assertRetryable(array: ArrayRow): void {
  const unfinished = array.submitted + array.queued + array.admitted + array.running;
  if (unfinished > 0)
    throw new ProblemError(
      409,
      problemTypes.conflict,
      'Conflict',
      `array ${array.id} still has ${unfinished} unfinished elements: retry its failed elements once it has finished (or cancel it first)`,
    );
  if (array.failed === 0)
    throw new ProblemError(
      409,
      problemTypes.conflict,
      'Conflict',
      `array ${array.id} has no failed element to retry`,
    );
}
