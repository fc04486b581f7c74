import { Inject, Injectable } from '@nestjs/common';
import { createEnvelope, type Envelope, subjects } from '@roam/contracts';
import { type DependencyTarget, orderSteps, type RequestedDependency, uuidv7 } from '@roam/domain';
import { JobLedger, type NewJobRecord, submitJobArray } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { ProblemError, problemTypes, validationProblem } from '@roam/runtime';

import { SOURCE } from '../source.js';
import { type ArraySize, ArraysService } from '../jobs/arrays.service.js';
import {
  DependenciesService,
  type DependencyRecord,
  type DependencyRequest,
  requestedOf,
} from '../jobs/dependencies.service.js';
import { newJobRecord } from '../jobs/jobs.repository.js';
import { defaultJobName, JobsService } from '../jobs/jobs.service.js';
import { PendingCap } from '../jobs/pending-cap.js';
import {
  type ListPipelinesQuery,
  pipelineBody,
  type PipelineSummary,
  type PipelineView,
} from './pipeline.schemas.js';
import { pipelineSummaryView, pipelineView } from './pipeline.view.js';
import { PipelinesRepository } from './pipelines.repository.js';

export const pipelineNotFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `pipeline ${id} not found`);

/** A step checked and given its id, ready to write. */
interface PlannedStep {
  name: string;
  id: string;
  record: NewJobRecord;
  array?: ArraySize;
  dependsOn: { step: string; on: RequestedDependency['on']; type?: 'N_TO_N' | undefined }[];
  requested: RequestedDependency[];
}

/**
 * Pipelines (docs/pipelines.md): named steps, each a job or an array, depending on each other
 * by name, submitted atomically: every job, array, dependency and the pipeline itself in one
 * transaction, or nothing with a problem naming the step.
 */
@Injectable()
export class PipelinesService {
  private readonly ledger: JobLedger;

  constructor(
    private readonly repository: PipelinesRepository,
    private readonly jobs: JobsService,
    private readonly arrays: ArraysService,
    private readonly dependencies: DependenciesService,
    private readonly pendingCap: PendingCap,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  async submit(tenantId: string, body: unknown): Promise<PipelineView> {
    const parsed = pipelineBody.safeParse(body);
    if (!parsed.success) throw validationProblem('body', parsed.error.issues);
    const { name, steps } = parsed.data;
    const order = orderSteps(
      steps.map((step) => ({ name: step.name, after: (step.depends_on ?? []).map((d) => d.step) })),
    );
    if (!order.ok) {
      const errors = order.issues.map((issue) => ({
        path: `steps.${steps.findIndex((s) => s.name === issue.step)}.depends_on`,
        message: `step "${issue.step}": ${issue.message}`,
      }));
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        `body: ${errors[0]!.path}: ${errors[0]!.message}`,
        { errors },
      );
    }
    const planned: PlannedStep[] = [];
    for (const [index, step] of steps.entries()) {
      const request = await this.jobs.requestOf(tenantId, step.job);
      const array = step.array === undefined ? undefined : this.arrays.parse(step.array);
      const { resources, podSets } = await this.jobs.assertCanEverRun(
        tenantId,
        request.spec,
        undefined,
        `steps.${index}.job.inputs_from_dependencies`,
      );
      const id = uuidv7();
      planned.push({
        name: step.name,
        id,
        record: newJobRecord({
          id,
          tenantId,
          name: request.spec.name ?? (array ? `${name}-${step.name}` : defaultJobName(id)),
          spec: request.spec,
          cpuMillis: resources.cpuMillis,
          memoryBytes: resources.memoryBytes,
          ...(podSets ? { gpu: resources.gpu, podSets } : {}),
          ...(request.templateId ? { templateId: request.templateId } : {}),
        }),
        ...(array ? { array } : {}),
        dependsOn: step.depends_on ?? [],
        requested: requestedOf(request.spec),
      });
    }
    const byName = new Map(planned.map((step) => [step.name, step]));
    const known = new Map<string, DependencyTarget>(
      planned.map((step) => [
        step.id,
        step.array
          ? { kind: 'array', id: step.id, size: step.array.size }
          : { kind: 'job', id: step.id },
      ]),
    );
    const requests: DependencyRequest[] = planned.map((step, index) => ({
      dependent: step.array ? { kind: 'array', size: step.array.size } : { kind: 'job' },
      requested: [
        ...step.requested,
        ...step.dependsOn.map((d) => ({ job: byName.get(d.step)!.id, on: d.on, type: d.type })),
      ],
      path: `steps.${index}.depends_on`,
    }));
    const id = uuidv7();
    const total = planned.reduce((n, step) => n + (step.array?.size ?? 1), 0);
    const jobSteps = planned.filter((step) => !step.array);
    const envelopes = await this.repository.prisma.$transaction(
      async (tx) => {
        await this.pendingCap.assertRoomInTransaction(tx, tenantId, total);
        const checked = await this.dependencies.check(tx, tenantId, requests, known);
        const submitted = await this.ledger.submit(
          tx,
          jobSteps.map((step) => step.record),
          {
            tenantGuard: tenantId,
            messages: jobSteps.map((step) =>
              createEnvelope(
                subjects.job.submit,
                { jobId: step.id },
                { source: SOURCE, tenantId, subject: `jobs/${step.id}` },
              ),
            ),
          },
        );
        let inserted = submitted.rows.length === jobSteps.length;
        for (const [index, step] of planned.entries()) {
          if (!step.array || !inserted) continue;
          inserted =
            (await submitJobArray(tx, {
              id: step.id,
              size: step.array.size,
              parallelism: step.array.parallelism ?? null,
              element: step.record,
              items: Array.isArray(step.array.items) ? step.array.items : null,
              // An N_TO_N dependent's elements each count their dependency: all rows now.
              allElements: (checked[index] ?? []).some((d) => d.nToN !== undefined),
            })) > 0;
        }
        if (!inserted) {
          throw new ProblemError(
            409,
            problemTypes.conflict,
            'Conflict',
            `tenant "${tenantId}" is being deleted`,
          );
        }
        const records: DependencyRecord[] = planned.map((step, index) => ({
          dependent: step.array ? { arrayId: step.id } : { jobId: step.id },
          ...(step.array ? {} : { jobName: step.record.name }),
          dependencies: checked[index] ?? [],
        }));
        const queued = await this.dependencies.record(tx, tenantId, records);
        await this.repository.insert(
          tx,
          { id, tenantId, name },
          planned.map((step) => ({
            name: step.name,
            ...(step.array ? { arrayId: step.id } : { jobId: step.id }),
            dependsOn: step.dependsOn,
          })),
        );
        return [...submitted.envelopes, ...queued] as Envelope[];
      },
      { timeout: 60_000 },
    );
    await this.outbox.dispatch(envelopes);
    return this.get(tenantId, id);
  }

  /** A page of the tenant's pipelines, newest first, and the cursor of the next. */
  async list(
    tenantId: string,
    query: ListPipelinesQuery,
  ): Promise<{ items: PipelineSummary[]; next_cursor: string | null }> {
    const rows = await this.repository.list(tenantId, {
      ...(query.cursor !== undefined ? { before: query.cursor } : {}),
      ...(query.state !== undefined ? { state: query.state } : {}),
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit).map(pipelineSummaryView);
    return { items, next_cursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async get(tenantId: string, id: string): Promise<PipelineView> {
    const pipeline = await this.repository.find(tenantId, id);
    if (!pipeline) throw pipelineNotFound(id);
    return pipelineView(pipeline, await this.repository.steps(tenantId, id));
  }

  /**
   * Cancels every unfinished step (a job, or an array's unfinished elements); idempotent.
   * Dependents would be cancelled as DependencyFailed anyway; cancelled here, last step first,
   * each says the user asked.
   */
  async cancel(tenantId: string, id: string): Promise<PipelineView> {
    const pipeline = await this.repository.find(tenantId, id);
    if (!pipeline) throw pipelineNotFound(id);
    for (const step of (await this.repository.steps(tenantId, id)).reverse()) {
      if (step.arrayId !== null) await this.arrays.cancel(tenantId, step.arrayId);
      else if (step.jobId !== null) await this.jobs.cancel(tenantId, step.jobId);
    }
    return this.get(tenantId, id);
  }
}
