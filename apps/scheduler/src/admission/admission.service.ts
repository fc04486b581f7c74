import { Inject, Injectable } from '@nestjs/common';
import type { Envelope } from '@roam/contracts';
import {
  type AdmissionDecision,
  decide,
  type Preemption,
  preempt,
  type Snapshot,
  withAssumed,
  withCapacityLoss,
} from '@roam/domain';
import { type JobChange, JobLedger } from '@roam/jobs';
import type { RawStatements } from '@roam/db';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../scheduler.config.js';
import { SOURCE } from '../source.js';
import { AdmissionRepository, type AdmittedRow, withSliceLayouts } from './admission.repository.js';
import { type BoundPod, ClusterView } from './cluster-view.js';
import { type Eviction, Evictor } from './evictor.js';
import { JobCreator } from './job-creator.js';
import { withAdmittedCapacity, withAdmittedPools } from './flavor-placement.js';

type Tx = RawStatements;

export interface CycleResult {
  leader: boolean;
  admitted: number;
  queued: number;
  pending: number;
  /** Jobs preempted (docs/scheduling.md#borrowing); ROAM_ADMISSION=kueue leaves it to Kueue. */
  preempted?: number;
}

/** Queue depth by tenant after this cycle, admitted jobs and how long they waited. */
function recordAdmission(
  pending: readonly { id: string; tenantId: string; createdAt: Date }[],
  admitted: readonly AdmittedRow[],
  now: Date,
): void {
  const admittedIds = new Set(admitted.map((row) => row.id));
  const depth = new Map<string, number>();
  for (const job of pending) {
    if (admittedIds.has(job.id)) {
      metrics.jobsAdmitted.inc({ tenant: job.tenantId });
      metrics.admissionWait.observe(Math.max(0, (now.getTime() - job.createdAt.getTime()) / 1000));
    } else depth.set(job.tenantId, (depth.get(job.tenantId) ?? 0) + 1);
  }
  metrics.queueDepth.reset();
  for (const [tenant, count] of depth) metrics.queueDepth.set({ tenant }, count);
}

/**
 * One admission cycle (Kueue's shape): read an immutable snapshot under the admission lock,
 * `decide()` (pure), write the decisions and their events in the same transaction, then hand
 * the admitted jobs to the `JobCreator`, which creates their Kubernetes Jobs while the next
 * cycles run. A crash after commit leaves admitted jobs without a confirmed Job;
 * `ensureCreated()` finds and queues them again on a later cycle.
 */
@Injectable()
export class AdmissionService {
  constructor(
    private readonly repository: AdmissionRepository,
    private readonly cluster: ClusterView,
    private readonly creator: JobCreator,
    private readonly evictor: Evictor,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  private readonly ledger: JobLedger;

  async cycle(now = new Date()): Promise<CycleResult> {
    await this.cluster.ready();
    let admittedRows: AdmittedRow[] = [];
    let messages: Envelope[] = [];
    let evictions: Eviction[] = [];
    const outcome = await this.repository.withAdmissionLock(async (tx) => {
      const tenants = await this.repository.tenants(tx);
      const { jobs: pending, state } = await this.repository.pending(tx, {
        perTenant: this.config.ADMISSION_MAX_PENDING_PER_TENANT,
        total: this.config.ADMISSION_MAX_PENDING,
      });
      if (pending.length === 0) {
        metrics.queueDepth.reset();
        return { admitted: 0, queued: 0, pending: 0, preempted: 0 };
      }
      // Read after the in-flight jobs: a pod bound since then is in `placed`, one not yet is
      // assumed, so no admitted job is ever missing from the room in use.
      const inFlight = await this.repository.inFlight(tx);
      const cluster = this.cluster.snapshot();
      const nodes = withAssumed(
        cluster.nodes,
        inFlight.filter((job) => !cluster.placed.has(job.id)),
      );
      const snapshot: Snapshot = { tenants, pending, nodes, now };
      const decision = decide(snapshot, {
        starvationThresholdMs: this.config.ADMISSION_STARVATION_MS,
      });
      const preemptions = await this.preemptions(tx, snapshot, decision, cluster.bound);
      // Capacity that is gone (pools cordoned, nodes NotReady), not busy: said, and offloadable now.
      const waits = withCapacityLoss(decision.waiting, pending, nodes, {
        cordonedBy: cluster.cordonedBy,
      });
      const changed = waits.filter((w) => {
        const current = state.get(w.jobId);
        return current?.phase !== 'Queued' || current.reason !== w.reason;
      });
      const admitIds = new Set(decision.admitted.map((a) => a.jobId));
      // The capacity a prefer-spot job was placed on: its pods are bound to that one.
      const admittedCapacity = new Map(decision.admitted.map((a) => [a.jobId, a.capacity]));
      // The node pool of each TPU slice: its pods are bound to that one.
      const slicePools = new Map(decision.admitted.map((a) => [a.jobId, a.slicePools]));
      const decided = await this.repository.decided(tx, [
        ...admitIds,
        ...changed.map((w) => w.jobId),
      ]);
      const waiting = new Map(changed.map((w) => [w.jobId, w]));
      const admittedAt = new Date();
      // Admissions and wait reasons: one ledger write (one statement) for the whole cycle.
      const result = await this.ledger.apply(
        tx,
        decided.flatMap(({ job }): JobChange[] => {
          if (admitIds.has(job.id))
            return [
              {
                job,
                events: [{ type: 'admit', message: 'admitted; creating the Kubernetes Job' }],
                set: {
                  admittedAt,
                  admittedCapacity: admittedCapacity.get(job.id) ?? null,
                  admittedPools: slicePools.get(job.id) ?? null,
                },
              },
            ];
          const w = waiting.get(job.id);
          return w
            ? [{ job, events: [{ type: 'queue', reason: w.reason, message: w.message }] }]
            : [];
        }),
      );
      for (const { change, error } of result.rejected)
        this.logger.warn({ jobId: change.job.id, err: error }, 'admission refused by the ledger');
      const byId = new Map(decided.map((row) => [row.job.id, row]));
      const written = result.written.filter((w) => w.state.phase === 'Admitted');
      admittedRows = written.map((w) => {
        const row = byId.get(w.change.job.id)!;
        return {
          id: row.job.id,
          tenantId: row.job.tenantId,
          namespace: row.namespace,
          name: row.job.name,
          attempt: row.job.attempt,
          seq: w.seq,
          spec: row.spec,
          inputsKey: row.inputsKey,
          ...withAdmittedCapacity(admittedCapacity.get(row.job.id)),
          ...withAdmittedPools(slicePools.get(row.job.id)),
        };
      });
      recordAdmission(pending, admittedRows, now);
      const evicted = await this.applyPreemptions(tx, preemptions, admittedAt);
      evictions = evicted.evictions;
      messages = [...result.envelopes, ...evicted.envelopes];
      const queued = result.written.length - admittedRows.length;
      return {
        admitted: admittedRows.length,
        queued,
        pending: pending.length,
        preempted: evictions.length,
      };
    });
    if (!outcome) {
      // Only the leader reports a queue, so summing over replicas counts each job once.
      metrics.queueDepth.reset();
      return { leader: false, admitted: 0, queued: 0, pending: 0, preempted: 0 };
    }
    await this.outbox.dispatch(messages);
    if (evictions.length > 0) {
      this.logger.info({ preempted: evictions.length }, 'preempted jobs');
      await this.evictor.evict(evictions);
    }
    if (admittedRows.length > 0) {
      this.logger.info(
        { admitted: admittedRows.length, pending: outcome.pending },
        'admitted jobs',
      );
      await this.creator.enqueue(
        withSliceLayouts(admittedRows, () => this.cluster.snapshot().nodes),
      );
    }
    return { leader: true, ...outcome };
  }

  /**
   * What the decision leaves waiting for quota or for capacity that preemption can make room
   * for. The running jobs are read only when some job waits for either, in the cycle's
   * transaction, each with the pods of its current attempt bound to a node (from the cluster
   * view: where evicting it makes room).
   */
  private async preemptions(
    tx: Tx,
    snapshot: Snapshot,
    decision: AdmissionDecision,
    bound: ReadonlyMap<string, readonly BoundPod[]>,
  ): Promise<Preemption[]> {
    const max = this.config.PREEMPTION_MAX_PER_CYCLE;
    if (max === 0) return [];
    const tenantsById = new Map(snapshot.tenants.map((t) => [t.id, t]));
    let priorities: Map<string, number> | undefined;
    // Waiting for capacity, a job may evict only borrowed work (its tenant in a cohort) or its
    // tenant's jobs of lower priority: without either, the running jobs are not read at all.
    const canMakeRoom = (w: AdmissionDecision['waiting'][number]) => {
      const tenant = tenantsById.get(w.tenantId);
      if (!tenant) return false;
      if (tenant.cohort !== undefined) return true;
      const lowest = tenant.running.minPriority;
      if (lowest === undefined) return false;
      priorities ??= new Map(snapshot.pending.map((job) => [job.id, job.priority]));
      return (priorities.get(w.jobId) ?? 0) > lowest;
    };
    const preemptable = (w: AdmissionDecision['waiting'][number]) =>
      w.reason === 'WaitingForQuota' || (w.reason === 'InsufficientCapacity' && canMakeRoom(w));
    if (!decision.waiting.some(preemptable)) return [];
    const running = await this.repository.running(tx);
    const current = new Map<string, number>();
    const tenants = snapshot.tenants.map((t) => ({
      ...t,
      runningJobs: (running.get(t.id) ?? []).map(({ attempt, ...job }) => {
        current.set(job.id, attempt);
        const pods = (bound.get(job.id) ?? [])
          .filter((pod) => pod.attempt === attempt)
          .map(({ node, resources }) => ({ node, resources }));
        return pods.length > 0 ? { ...job, pods } : job;
      }),
    }));
    // Pods of an attempt no job holds any more (an earlier preemption's victims, still in their
    // grace period): their room is on its way back, so nothing else is evicted for it.
    const releasing = [...bound].flatMap(([jobId, pods]) =>
      pods
        .filter((pod) => pod.attempt !== current.get(jobId))
        .map(({ node, resources }) => ({ node, resources })),
    );
    return preempt({ ...snapshot, tenants, releasing }, decision, { maxPreemptions: max });
  }

  /**
   * Requeues the preempted jobs through the ledger (`job.preempted`), each as a new attempt that
   * the retry policy does not count, waiting from now (so it does not pass for a starving job).
   * Their Kubernetes objects go after commit (`Evictor`).
   */
  private async applyPreemptions(
    tx: Tx,
    preemptions: readonly Preemption[],
    now: Date,
  ): Promise<{ envelopes: Envelope[]; evictions: Eviction[] }> {
    if (preemptions.length === 0) return { envelopes: [], evictions: [] };
    const rows = await this.repository.preemptable(
      tx,
      preemptions.map((p) => p.jobId),
    );
    const why = new Map(preemptions.map((p) => [p.jobId, p]));
    const result = await this.ledger.apply(
      tx,
      rows.map((row): JobChange => ({
        job: row.job,
        events: [{ type: 'preempt', message: why.get(row.job.id)?.message ?? 'preempted' }],
        set: {
          admittedAt: null,
          startedAt: null,
          placement: null,
          retryAt: now,
          attempt: row.job.attempt + 1,
          preemptions: row.preemptions + 1,
        },
      })),
    );
    for (const { change, error } of result.rejected)
      this.logger.warn({ jobId: change.job.id, err: error }, 'preemption refused by the ledger');
    const byId = new Map(rows.map((row) => [row.job.id, row]));
    const evictions = result.written.map(({ change }) => {
      const row = byId.get(change.job.id)!;
      const p = why.get(row.job.id);
      this.logger.info(
        {
          jobId: row.job.id,
          tenantId: row.job.tenantId,
          by: p?.by,
          reason: p?.reason,
          nodes: p?.nodes,
        },
        'preempting',
      );
      return {
        jobId: row.job.id,
        namespace: row.namespace,
        attempt: row.job.attempt,
        jobSet: row.jobSet,
      };
    });
    return { envelopes: result.envelopes, evictions };
  }

  /** Creates the Jobs of admitted jobs not yet confirmed created (crash or API error recovery). */
  async ensureCreated(): Promise<number> {
    const rows = await this.repository.unconfirmed(this.config.ADMISSION_CREATE_GRACE_MS, 500);
    if (rows.length > 0) {
      const fresh = await this.creator.enqueue(
        withSliceLayouts(rows, () => this.cluster.snapshot().nodes),
      );
      if (fresh > 0)
        this.logger.info({ count: fresh }, 'creating Kubernetes Jobs left unconfirmed');
    }
    return rows.length;
  }
}
