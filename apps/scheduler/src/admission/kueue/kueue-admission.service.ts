import { Inject, Injectable } from '@nestjs/common';
import type { Envelope } from '@roam/contracts';
import {
  BUILTIN_PRIORITY_CLASSES,
  kueueEvent,
  kueuePriorityClass,
  workloadVerdict,
} from '@roam/domain';
import { type JobChange, JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../../scheduler.config.js';
import { SOURCE } from '../../source.js';
import {
  AdmissionRepository,
  type AdmittedRow,
  withSliceLayouts,
} from '../admission.repository.js';
import type { CycleResult } from '../admission.service.js';
import { ClusterView } from '../cluster-view.js';
import { type Eviction, Evictor } from '../evictor.js';
import { JobCreator } from '../job-creator.js';
import { attemptObjectName, DEFAULT_QUEUE } from '../job-manifest.js';
import { KueueAdmissionRepository, type KueueRow } from './kueue-admission.repository.js';
import { KueuePriorityClasses } from './kueue-priority-classes.js';
import { KueueWorkloads } from './kueue-workloads.js';

/**
 * ROAM_ADMISSION=kueue: the admission cycle when Kueue decides. Under the same admission lock
 * as roam's own cycle (docs/architecture.md#rule-4), it reads the pending jobs, hands those
 * without a Kubernetes Job to the `JobCreator` (created suspended in the job's LocalQueue),
 * and turns what each job's Workload says into ledger events: Queued with Kueue's reason,
 * Admitted when Kueue admits it, back to Queued when Kueue evicts it before it ran. Starting
 * and finishing stay with the reconciler, which follows the Job and its pods as in roam mode.
 */
@Injectable()
export class KueueAdmissionService {
  private readonly ledger: JobLedger;

  constructor(
    private readonly admission: AdmissionRepository,
    private readonly repository: KueueAdmissionRepository,
    private readonly workloads: KueueWorkloads,
    private readonly creator: JobCreator,
    private readonly priorityClasses: KueuePriorityClasses,
    private readonly cluster: ClusterView,
    private readonly evictor: Evictor,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  async cycle(now = new Date()): Promise<CycleResult> {
    let messages: Envelope[] = [];
    let create: AdmittedRow[] = [];
    let evictions: Eviction[] = [];
    const outcome = await this.admission.withAdmissionLock(async (tx) => {
      const rows = await this.repository.pending(tx, {
        perTenant: this.config.ADMISSION_MAX_PENDING_PER_TENANT,
        total: this.config.ADMISSION_MAX_PENDING,
      });
      // Running jobs whose Workload Kueue evicted go back to the queue too.
      const evicted = await this.repository.running(tx, this.workloads.evicted());
      const changes: JobChange[] = [];
      const preempted = new Map<string, KueueRow>();
      for (const row of [...rows, ...evicted]) {
        if (!row.created) continue;
        const workload = this.workloads.of(
          row.namespace,
          attemptObjectName(row.spec, row.job.id, row.job.attempt),
        );
        const next = kueueEvent(row.job.state, workload && workloadVerdict(workload), now);
        if (!next) continue;
        const set = {
          ...(next.admittedAt !== undefined ? { admittedAt: next.admittedAt } : {}),
          ...(next.startedAt !== undefined ? { startedAt: next.startedAt } : {}),
          // Preempted by Kueue: as in roam mode, a new attempt the retry policy does not count,
          // its suspended Job created by the next cycle (no placement: not created yet).
          ...(next.preempted
            ? {
                placement: null,
                retryAt: now,
                attempt: row.job.attempt + 1,
                preemptions: row.preemptions + 1,
              }
            : {}),
        };
        changes.push({ job: row.job, events: [next.event], set });
        if (next.preempted) preempted.set(row.job.id, row);
      }
      const result = await this.ledger.apply(tx, changes);
      // The preempted attempt's Job (and Kueue's Workload with it) goes after commit, so Kueue
      // never readmits it: the new attempt waits in Kueue as a Job of its own.
      evictions = result.written.flatMap(({ change }) => {
        const row = preempted.get(change.job.id);
        return row
          ? [
              {
                jobId: row.job.id,
                namespace: row.namespace,
                attempt: row.job.attempt,
                jobSet: row.jobSet,
              },
            ]
          : [];
      });
      for (const { change, error } of result.rejected)
        this.logger.warn(
          { jobId: change.job.id, err: error },
          'Kueue admission refused by the ledger',
        );
      messages = result.envelopes;
      const seqs = new Map(result.written.map((w) => [w.change.job.id, w.seq]));
      create = rows
        .filter((row) => !row.created && !preempted.has(row.job.id))
        .map((row) => ({
          id: row.job.id,
          tenantId: row.job.tenantId,
          namespace: row.namespace,
          name: row.job.name,
          attempt: row.job.attempt,
          seq: seqs.get(row.job.id) ?? row.job.seq,
          spec: row.spec,
          inputsKey: row.inputsKey,
          kueueQueue: row.spec.queue ?? DEFAULT_QUEUE,
        }));
      const admitted = result.written.filter((w) => w.state.phase === 'Admitted').length;
      return { admitted, queued: result.written.length - admitted, pending: rows.length };
    });
    if (!outcome) return { leader: false, admitted: 0, queued: 0, pending: 0 };
    // First, before anything else after commit can fail: the preempted attempts' objects (the
    // reconciler deletes an unfinished earlier attempt's Job too, should this not get there).
    if (evictions.length > 0) {
      this.logger.info({ jobs: evictions.map((e) => e.jobId) }, 'Kueue preempted jobs');
      await this.evictor.evict(evictions);
    }
    // Written before any Job names one (a Workload of a missing class is never created); read
    // afresh when a job names an admin class not written yet.
    const classes = await this.priorityClasses.current(
      now.getTime(),
      create.flatMap((row) => {
        const name = row.spec.priority_class;
        return name !== undefined && !Object.hasOwn(BUILTIN_PRIORITY_CLASSES, name) ? [name] : [];
      }),
    );
    create = create.map((row) => ({
      ...row,
      kueuePriorityClass: kueuePriorityClass(
        row.spec.priority ?? 0,
        classes,
        row.spec.priority_class,
      ).name,
    }));
    await this.outbox.dispatch(messages);
    // A multi-host TPU slice is built from its layout on the nodes, with its headless Service.
    if (create.some((row) => row.spec.resources.tpu)) await this.cluster.ready();
    if (create.length > 0)
      await this.creator.enqueue(withSliceLayouts(create, () => this.cluster.snapshot().nodes));
    if (outcome.admitted > 0)
      this.logger.info(
        { admitted: outcome.admitted, pending: outcome.pending },
        'Kueue admitted jobs',
      );
    return { leader: true, ...outcome };
  }
}
