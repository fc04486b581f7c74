import { Inject, Injectable } from '@nestjs/common';
import {
  createEnvelope,
  type Envelope,
  type JobSpec,
  jobSpecSchema,
  subjects,
} from '@roam/contracts';
import { directTransaction } from '@roam/db';
import { uuidv7 } from '@roam/domain';
import { JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import type { ObjectStore } from '@roam/object-store';
import { type FieldError, OBJECT_STORE, ProblemError, problemTypes } from '@roam/runtime';
import { z } from 'zod';

import { SOURCE } from '../source.js';
import { DependenciesService, requestedOf } from './dependencies.service.js';
import { assertDependencyInputs } from './dependency-inputs-check.js';
import {
  assertMultiPodCoherent,
  neverFitsView,
  placementOf,
  requestsOf,
  type SubmitVerdict,
  submitVerdict,
  unschedulableProblem,
} from './job-resources.js';
import { PriorityClassesService } from '../priority-classes/priority-classes.service.js';
import { JobsRepository, type NewJob, newJobRecord } from './jobs.repository.js';
import { defaultJobName } from './jobs.service.js';
import { NodeCapacityCache } from './node-capacity.cache.js';
import { PendingCap } from './pending-cap.js';

export const batchItemSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.literal('pending'),
});
export type BatchItem = z.output<typeof batchItemSchema>;

/** `POST /api/v1/jobs:batch`: the jobs in the order they were given. */
export const batchResultSchema = z
  .object({ items: z.array(batchItemSchema), count: z.number().int() })
  .meta({ id: 'JobBatchResult' });

interface ItemErrors {
  index: number;
  errors: FieldError[];
}

/**
 * `POST /api/v1/jobs:batch`: all or nothing. Every item is validated before anything is written
 * (the 400 names each bad index); then one transaction writes every job, history row, event
 * and the command through the ledger in one statement, and the messages are published after
 * commit without waiting: the relay publishes whatever a crash leaves behind. No per-job round
 * trip anywhere.
 */
@Injectable()
export class JobsBatchService {
  constructor(
    private readonly repository: JobsRepository,
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

  async submit(tenantId: string, items: readonly unknown[]): Promise<BatchItem[]> {
    const jobs = this.validate(tenantId, items);
    await this.priorities.apply(
      jobs.map((job) => job.spec),
      (index) => `jobs.${index}.`,
    );
    const nodes = await this.nodes.current();
    // One command wakes the scheduler for the whole batch; subscribers still get an event per job.
    const messages: Envelope[] = [
      createEnvelope(
        subjects.job.submitBatch,
        { jobIds: jobs.map((job) => job.id) },
        { source: SOURCE, tenantId },
      ),
    ];
    // Raw statements only: one pooled connection, outside Prisma's pipeline
    // (docs/architecture.md#direct-sql).
    const written = await directTransaction(
      this.repository.prisma,
      async (tx) => {
        const limits = await this.repository.lockTenantForSubmit(tx, tenantId);
        // Jobs of a batch are usually alike: judge each distinct request once, with the same
        // checks as a single submit (`submitVerdict`): the nodes read once for the batch.
        const verdicts = new Map<string, SubmitVerdict>();
        const unschedulable: { index: number; reasons: ReturnType<typeof neverFitsView> }[] = [];
        jobs.forEach((job, index) => {
          // What the verdict reads of a (single-pod) spec: its requests, offload and flavor.
          const key = `${job.cpuMillis}/${job.memoryBytes}/${job.gpu}/${job.spec.offload}/${JSON.stringify(placementOf(job.spec))}`;
          let verdict = verdicts.get(key);
          if (!verdict) {
            const one = {
              cpuMillis: job.cpuMillis,
              memoryBytes: job.memoryBytes,
              gpu: job.gpu ?? 0,
            };
            verdict = submitVerdict(job.spec, () => ({ resources: one }), nodes, limits);
            verdicts.set(key, verdict);
          }
          if (verdict.reasons.length > 0)
            unschedulable.push({ index, reasons: neverFitsView(verdict.reasons) });
          // A multi-host TPU slice is stored as its hosts' pods, as a single submit stores it.
          const { resources, podSets } = verdict.requests;
          if (podSets) {
            job.cpuMillis = resources.cpuMillis;
            job.memoryBytes = resources.memoryBytes;
            job.gpu = resources.gpu;
            job.podSets = podSets;
          }
        });
        if (unschedulable.length > 0) {
          throw new ProblemError(
            422,
            unschedulableProblem,
            'Jobs can never run',
            `${unschedulable.length} of ${jobs.length} jobs can never run; first, jobs[${unschedulable[0]!.index}]: ${unschedulable[0]!.reasons.map((r) => r.message).join('; ')}`,
            { items: unschedulable },
          );
        }
        await this.pendingCap.assertRoomInTransaction(tx, tenantId, jobs.length);
        const dependents = jobs.flatMap((job, index) => {
          const requested = requestedOf(job.spec);
          return requested.length === 0 ? [] : [{ job, index, requested }];
        });
        const checked = await this.dependencies.check(
          tx,
          tenantId,
          dependents.map(({ index, requested }) => ({
            dependent: { kind: 'job' as const },
            requested,
            path: `jobs.${index}.depends_on`,
          })),
        );
        // Jobs, history rows, events and the command: one statement, however many jobs.
        const { envelopes } = await this.ledger.submit(tx, jobs.map(newJobRecord), { messages });
        const queued = await this.dependencies.record(
          tx,
          tenantId,
          dependents.map(({ job }, i) => ({
            dependent: { jobId: job.id },
            jobName: job.name,
            dependencies: checked[i] ?? [],
          })),
        );
        return [...envelopes, ...queued];
      },
      { timeoutMs: 30_000 },
    );
    // After the response is on its way: encoding thousands of messages is CPU the client
    // need not wait for.
    setImmediate(() => void this.outbox.dispatch(written));
    return jobs.map((job) => ({ id: job.id, name: job.name, status: 'pending' }));
  }

  /** Every item parsed, or one 400 listing the errors of every bad item by index. */
  private validate(tenantId: string, items: readonly unknown[]): NewJob[] {
    const bad: ItemErrors[] = [];
    const jobs: NewJob[] = [];
    items.forEach((item, index) => {
      const parsed = jobSpecSchema.safeParse(item);
      if (!parsed.success) {
        bad.push({
          index,
          errors: parsed.error.issues.map((issue) => ({
            path: issue.path.map(String).join('.') || '(root)',
            message: issue.message,
          })),
        });
        return;
      }
      const spec: JobSpec = parsed.data;
      assertMultiPodCoherent(spec, 'the jobs of a batch');
      assertDependencyInputs(
        spec,
        this.store?.kind ?? null,
        `jobs.${index}.inputs_from_dependencies`,
      );
      const requests = requestsOf(spec);
      if ('errors' in requests) {
        bad.push({ index, errors: requests.errors });
        return;
      }
      const id = uuidv7();
      jobs.push({
        id,
        tenantId,
        name: spec.name ?? defaultJobName(id),
        spec,
        cpuMillis: requests.resources.cpuMillis,
        memoryBytes: requests.resources.memoryBytes,
        gpu: requests.resources.gpu,
      });
    });
    if (bad.length === 0) return jobs;
    const first = bad[0]!;
    const firstError = first.errors[0];
    throw new ProblemError(
      400,
      problemTypes.validation,
      'Request validation failed',
      `body: ${bad.length} of ${items.length} jobs are invalid; first, jobs.${first.index}.${firstError?.path ?? ''}: ${firstError?.message ?? 'invalid'}`,
      {
        errors: bad.flatMap((item) =>
          item.errors.map((error) => ({
            path: `jobs.${item.index}.${error.path}`,
            message: error.message,
          })),
        ),
        items: bad,
      },
    );
  }
}
