import { Inject, Injectable } from '@nestjs/common';
import { createEnvelope, type JobSpec, jobSpecSchema, subjects } from '@roam/contracts';
import { uuidv7 } from '@roam/domain';
import { JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import type { ObjectStore } from '@roam/object-store';
import { OBJECT_STORE, ProblemError, problemTypes, validationProblem } from '@roam/runtime';

import { SOURCE } from '../source.js';
import { TemplatesService } from '../templates/templates.service.js';
import { DependenciesService, requestedOf } from './dependencies.service.js';
import { assertDependencyInputs } from './dependency-inputs-check.js';
import {
  assertMultiPodCoherent,
  type JobRequests,
  refuseNeverRuns,
  requestsOrThrow,
  submitVerdict,
} from './job-resources.js';
import { PriorityClassesService } from '../priority-classes/priority-classes.service.js';
import {
  type JobHistoryRow,
  type JobQuery,
  type JobRecordRow,
  jobOfRow,
  JobsRepository,
  type JobRow,
  type NewJob,
  newJobRecord,
  type SubmitLimits,
} from './jobs.repository.js';
import { NodeCapacityCache } from './node-capacity.cache.js';
import { PendingCap } from './pending-cap.js';

export const jobNotFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `job ${id} not found`);

export const defaultJobName = (id: string) => `job-${id.slice(-12)}`;

/** A spec to submit, and the template it was made from. */
export interface SubmitRequest {
  spec: JobSpec;
  templateId?: string;
  /** Chosen before the submit when something (an upload) must be keyed by it first. */
  id?: string;
  /** An input archive already checked and stored under the job's key (uploads). */
  inputs?: { key: string; bytes: number };
}

/** How stale the limits behind the early never-fits refusal may be. */
const LIMITS_TTL_MS = 5000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

@Injectable()
export class JobsService {
  constructor(
    private readonly repository: JobsRepository,
    private readonly templates: TemplatesService,
    private readonly nodes: NodeCapacityCache,
    @Inject(Outbox) private readonly outbox: Outbox,
    private readonly pendingCap: PendingCap,
    private readonly dependencies: DependenciesService,
    private readonly priorities: PriorityClassesService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  private readonly ledger: JobLedger;

  private readonly limitsCache = new Map<
    string,
    { limits: SubmitLimits | undefined; expires: number }
  >();

  /** A `POST /api/v1/jobs` body: a JobSpec, or `{"template": name, ...overrides}`. */
  async requestOf(tenantId: string, body: unknown): Promise<SubmitRequest> {
    if (isRecord(body) && 'template' in body) return this.templates.resolve(tenantId, body);
    const parsed = jobSpecSchema.safeParse(body);
    if (!parsed.success) throw validationProblem('body', parsed.error.issues);
    return { spec: parsed.data };
  }

  /**
   * Records the job, its first history row, its command and its event through the ledger in
   * ONE statement (one round trip), then publishes. A job that can never run (bigger than the tenant's quota or
   * any node) is a 422 and leaves nothing behind. The limits for that check come from a cache
   * a few seconds old at most: it only decides whether to refuse early; quotas are enforced
   * by the scheduler against the current limits.
   */
  async submit(tenantId: string, request: SubmitRequest): Promise<JobRow> {
    const { spec, templateId } = request;
    const { resources, podSets } = await this.assertCanEverRun(tenantId, spec);
    await this.pendingCap.assertRoom(tenantId, 1);
    const id = request.id ?? uuidv7();
    const name = spec.name ?? defaultJobName(id);
    const meta = { source: SOURCE, tenantId, subject: `jobs/${id}` };
    const job: NewJob = {
      id,
      tenantId,
      name,
      spec,
      cpuMillis: resources.cpuMillis,
      memoryBytes: resources.memoryBytes,
      ...(podSets ? { gpu: resources.gpu, podSets } : {}),
      ...(templateId ? { templateId } : {}),
      ...(request.inputs ? { inputs: request.inputs } : {}),
    };
    const messages = [createEnvelope(subjects.job.submit, { jobId: id }, { ...meta, id })];
    const record = newJobRecord(job);
    const requested = requestedOf(spec);
    const { rows, envelopes } =
      requested.length === 0
        ? // One statement: straight to the pool (docs/architecture.md#direct-sql).
          await this.ledger.submit<JobRecordRow>(this.repository.sql, [record], {
            tenantGuard: tenantId,
            messages,
            returnRows: true,
          })
        : // With dependencies: the job and its dependencies in one transaction, the targets
          // locked from their check to the commit.
          await this.repository.prisma.$transaction(async (tx) => {
            const [checked = []] = await this.dependencies.check(tx, tenantId, [
              { dependent: { kind: 'job' }, requested, path: 'depends_on' },
            ]);
            const submitted = await this.ledger.submit<JobRecordRow>(tx, [record], {
              tenantGuard: tenantId,
              messages,
              returnRows: true,
            });
            if (submitted.rows.length === 0) return submitted;
            const queued = await this.dependencies.record(tx, tenantId, [
              { dependent: { jobId: id }, jobName: name, dependencies: checked },
            ]);
            return { rows: submitted.rows, envelopes: [...submitted.envelopes, ...queued] };
          });
    const row = rows[0];
    if (!row) {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `tenant "${tenantId}" is being deleted`,
      );
    }
    await this.outbox.dispatch(envelopes);
    // A job with dependencies was queued after its insert: answer with its row as committed.
    return requested.length === 0 ? jobOfRow(row) : this.get(tenantId, id);
  }

  /**
   * The spec's requests (a gang's summed, with its pod sets); 422 when it can never run (larger
   * than the quota or any node) or is an incoherent multi-pod job, or a multi-pod job where
   * only single pods may go (`singlePodOnly` names them: "an array's elements"); 422 too when it
   * asks for its dependencies' results where they cannot be given (`dependencyInputsIssue`).
   */
  async assertCanEverRun(
    tenantId: string,
    spec: JobSpec,
    singlePodOnly?: string,
    /** Where the request holds `inputs_from_dependencies`, for the 422 (a pipeline's step). */
    inputsPath?: string,
  ): Promise<JobRequests> {
    assertMultiPodCoherent(spec, singlePodOnly);
    assertDependencyInputs(spec, this.store?.kind ?? null, inputsPath);
    // Every submit path comes through here: a priority class becomes the priority now.
    await this.priorities.apply([spec]);
    const [nodes, limits] = await Promise.all([this.nodes.current(), this.limitsOf(tenantId)]);
    const { requests, reasons } = submitVerdict(spec, () => requestsOrThrow(spec), nodes, limits);
    refuseNeverRuns(reasons);
    return requests;
  }

  private async limitsOf(tenantId: string): Promise<SubmitLimits | undefined> {
    const cached = this.limitsCache.get(tenantId);
    if (cached && cached.expires > Date.now()) return cached.limits;
    const limits = await this.repository.limits(tenantId);
    this.limitsCache.set(tenantId, { limits, expires: Date.now() + LIMITS_TTL_MS });
    return limits;
  }

  async get(tenantId: string, id: string): Promise<JobRow> {
    const job = await this.repository.find(tenantId, id);
    if (!job) throw jobNotFound(id);
    return job;
  }

  list(tenantId: string, query: JobQuery): Promise<JobRow[]> {
    return this.repository.list(tenantId, query);
  }

  /** The job's most recent preemption, if any (for `/explain`). */
  lastPreemption(tenantId: string, id: string): Promise<JobHistoryRow | null> {
    return this.repository.lastPreemption(tenantId, id);
  }

  /** The job's history rows, oldest first; 404 for a job that is not the tenant's. */
  async events(tenantId: string, id: string): Promise<JobHistoryRow[]> {
    await this.get(tenantId, id);
    return this.repository.history(tenantId, id);
  }

  /** Idempotent: cancelling a finished (or already cancelled) job returns it unchanged. */
  async cancel(tenantId: string, id: string): Promise<JobRow> {
    const written = await this.outbox.transaction(async (tx) => {
      const job = await this.repository.lockForChange(tx, tenantId, id);
      if (!job) return { result: undefined, messages: [] };
      const now = new Date();
      const result = await this.ledger.apply(tx, [
        {
          job,
          events: [
            { type: 'cancel', reason: 'CancelledByUser', message: 'cancelled through the API' },
          ],
          set: { cancelRequestedAt: now, finishedAt: now },
        },
      ]);
      if (result.written.length === 0) return { result: undefined, messages: [] };
      const meta = { source: SOURCE, tenantId, subject: `jobs/${id}` };
      return {
        result: result.envelopes,
        messages: [createEnvelope(subjects.job.cancel, { jobId: id }, meta)],
      };
    });
    if (written) await this.outbox.dispatch(written);
    return this.get(tenantId, id);
  }
}
