import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { arrayRequest, type JobStatus } from '@roam/contracts';
import { uuidv7 } from '@roam/domain';
import { JobLedger, submitJobArray } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, ProblemError, problemTypes, validationProblem } from '@roam/runtime';
import { z } from 'zod';

import { SOURCE } from '../source.js';
import { type ArrayRow, ArraysRepository } from './arrays.repository.js';
import { cancelInBatches } from './cancel-batches.js';
import type { JobRow } from './jobs.repository.js';
import { newJobRecord } from './jobs.repository.js';
import { defaultJobName, JobsService, type SubmitRequest } from './jobs.service.js';
import { PendingCap } from './pending-cap.js';

export const arrayNotFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `array ${id} not found`);

const elementNotFound = (id: string, index: number) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `array ${id} has no element ${index}`);

/** A checked `array` member. */
export interface ArraySize {
  size: number;
  parallelism?: number | undefined;
  items?: string[] | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

@Injectable()
export class ArraysService {
  private readonly ledger: JobLedger;
  private readonly request: z.ZodType<ArraySize>;

  constructor(
    private readonly repository: ArraysRepository,
    private readonly jobs: JobsService,
    private readonly pendingCap: PendingCap,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) config: GatewayConfig,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
    const max = config.ARRAY_MAX_SIZE;
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
   */
  async submitBody(tenantId: string, body: unknown): Promise<ArrayRow> {
    const { array, ...rest } = isRecord(body) ? body : { array: undefined };
    const size = this.parse(array);
    const request = await this.jobs.requestOf(tenantId, isRecord(body) ? rest : body);
    return this.submit(tenantId, request, size);
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
   * One array and its `size` elements in one statement (`submitJobArray`). Refused whole, with
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
    const { spec } = request;
    const resources = await this.jobs.assertCanEverRun(tenantId, spec);
    const id = uuidv7();
    const element = newJobRecord({
      id,
      tenantId,
      name: spec.name ?? defaultJobName(id),
      spec,
      cpuMillis: resources.cpuMillis,
      memoryBytes: resources.memoryBytes,
      ...(request.templateId ? { templateId: request.templateId } : {}),
    });
    const inserted = await this.repository.prisma.$transaction(
      async (tx) => {
        await this.pendingCap.assertRoomInTransaction(tx, tenantId, array.size);
        return submitJobArray(tx, {
          id,
          size: array.size,
          parallelism: array.parallelism ?? null,
          element,
          items: array.items ?? null,
        });
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
    await this.get(tenantId, id);
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

  /** Cancels every unfinished element; idempotent (`cancelled: 0` when none is left). */
  async cancel(tenantId: string, id: string): Promise<{ cancelled: number; array: ArrayRow }> {
    await this.get(tenantId, id);
    const cancelled = await cancelInBatches(
      this.outbox,
      this.ledger,
      tenantId,
      (tx, limit) => this.repository.lockUnfinished(tx, tenantId, id, limit),
      `array ${id} cancelled through the API`,
    );
    return { cancelled, array: await this.get(tenantId, id) };
  }
}
