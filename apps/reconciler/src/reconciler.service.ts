import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  type EarlierAttempt,
  latestPod,
  type NodeOfPod,
  planReconcile,
  type ReconcileRecord,
} from '@roam/domain';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import { metrics, secondsSince } from '@roam/telemetry';
import type { Logger } from 'pino';

import { KubeState } from './kube-state.js';
import { type Change, ReconcileRepository } from './reconcile.repository.js';
import type { ReconcilerConfig } from './reconciler.config.js';

function finishedAt(object: {
  status?: {
    completionTime?: unknown;
    conditions?: { type: string; status: string; lastTransitionTime?: unknown }[];
  };
}): Date | undefined {
  const done = object.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (!done) return undefined;
  const time = object.status?.completionTime ?? done.lastTransitionTime;
  return time ? new Date(time as string) : new Date(0);
}

type Deletion = { jobId: string; attempt: number; current: boolean };

/** Kubernetes Jobs deleted at once (each call never throws: a failure is rechecked later). */
const DELETES_IN_FLIGHT = 16;

/**
 * Moves jobs forward from what Kubernetes shows: watch events enqueue the job, a drain loop
 * reconciles up to RECONCILE_BATCH jobs per transaction, and a periodic resync enqueues every
 * active job and every Job roam created, so nothing depends on a single event arriving.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly queue = new Set<string>();
  private draining: Promise<void> | undefined;
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  /** When a watch event about the job first arrived since its last reconcile (reconcile lag). */
  private readonly eventAt = new Map<string, number>();
  /**
   * When a watch event last made the reconciler read and plan each job (successfully). The
   * resync skips a job an event made it look at within the last interval: in a burst most
   * active jobs have just been, and reading each again every interval was most of the
   * reconciler's Postgres reads. A job without events is looked at by every resync, as before.
   */
  private readonly lookedAt = new Map<string, number>();
  private readonly resyncs: Loop;
  private stopped = false;

  constructor(
    private readonly state: KubeState,
    private readonly repository: ReconcileRepository,
    @Inject(APP_CONFIG) private readonly config: ReconcilerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.resyncs = new Loop({
      name: 'resync',
      intervalMs: config.RECONCILE_INTERVAL_MS,
      logger,
      pass: () => this.resync(),
    });
  }

  get resyncHealth(): LoopHealth {
    return this.resyncs.health;
  }

  onApplicationBootstrap(): void {
    this.resyncs.start();
    void this.startWatching(1000);
  }

  /** Keeps trying to reach the cluster without failing the process: Postgres work goes on. */
  private async startWatching(delayMs: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.state.start((jobId) => this.observed(jobId));
      this.logger.info(
        { server: this.state.kube.server, synced: this.state.isSynced() },
        'watching roam Jobs and Pods',
      );
      this.resyncs.wake();
    } catch (error) {
      this.logger.warn({ err: error, retryInMs: delayMs }, 'cannot watch the cluster yet');
      const timer = setTimeout(
        () => void this.startWatching(Math.min(delayMs * 2, 30_000)),
        delayMs,
      );
      timer.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.resyncs.stop();
    for (const timer of this.rechecks.values()) clearTimeout(timer);
    await this.draining;
  }

  /** A watch event about the job: look at it soon. */
  observed(jobId: string): void {
    if (!this.eventAt.has(jobId)) this.eventAt.set(jobId, performance.now());
    this.enqueue(jobId);
  }

  enqueue(jobId: string): void {
    if (this.stopped) return;
    this.queue.add(jobId);
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.drain(),
    );
  }

  /**
   * Enqueues every active job (keyset pages) and every Job roam created, except those an event
   * made it look at within the last interval; forgets the looks of jobs it no longer sees.
   */
  async resync(): Promise<void> {
    const fresh = performance.now() - this.config.RECONCILE_INTERVAL_MS;
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      if ((this.lookedAt.get(id) ?? -Infinity) <= fresh) this.enqueue(id);
    };
    let after: string | undefined;
    for (;;) {
      const ids = await this.repository.activeIds(after, 1000);
      for (const id of ids) visit(id);
      if (ids.length < 1000) break;
      after = ids.at(-1);
    }
    for (const { jobId } of this.state.allJobs()) visit(jobId);
    // Neither active nor holding a Job: nothing left to look at (an event brings it back).
    for (const id of this.lookedAt.keys()) if (!seen.has(id)) this.lookedAt.delete(id);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const batch = [...this.queue].slice(0, this.config.RECONCILE_BATCH);
        for (const id of batch) this.queue.delete(id);
        const started = performance.now();
        try {
          await this.reconcile(batch);
          metrics.reconcileBatchDuration.observe(secondsSince(started));
        } catch (error) {
          this.logger.error(
            { err: error, count: batch.length },
            'reconcile batch failed; will retry',
          );
          for (const id of batch) this.recheck(id, new Date(Date.now() + 1000));
        }
      }
    } finally {
      this.draining = undefined;
      if (this.queue.size > 0 && !this.stopped) this.enqueue([...this.queue][0]!);
    }
  }

  private async reconcile(ids: readonly string[]): Promise<void> {
    const now = new Date();
    const seenAt = new Map<string, number>();
    for (const id of ids) {
      const at = this.eventAt.get(id);
      if (at === undefined) continue;
      seenAt.set(id, at);
      this.eventAt.delete(id);
    }
    const records = await this.repository.load(ids);
    const known = new Set(records.map((record) => record.id));
    const deletions: Deletion[] = [];
    // Object storage or a results volume: Jobs wait for their logs and results to be stored.
    const storage = Boolean(this.config.S3_ENDPOINT ?? this.config.RESULTS_PVC_ROOT);
    for (const id of ids) {
      // A Job whose roam job no longer exists (its tenant was deleted, say) is an orphan.
      if (!known.has(id))
        for (const job of this.state.allJobs())
          if (job.jobId === id) deletions.push({ jobId: id, attempt: job.attempt, current: false });
    }
    const changes: Change[] = [];
    for (const record of records) {
      const result = planReconcile(
        record,
        {
          kubeJob: this.state.job(record.id, record.attempt),
          pods: this.state.podsOf(record.id, record.attempt),
          // A JobSet missing from a cache that never listed is unknown, not gone.
          synced:
            this.state.isSynced() && (!record.spec.replicated_jobs || this.state.jobSetsSynced()),
          earlier: this.earlierAttempts(record),
          ...this.nodeOf(record),
        },
        {
          now,
          lostGraceMs: this.config.LOST_GRACE_MS,
          storage,
          maxRequeues: this.config.MAX_REQUEUES,
          waitForPodsReadySeconds: this.config.WAIT_FOR_PODS_READY_SECONDS,
        },
      );
      if (result.steps.length > 0 || result.set.placement !== undefined)
        changes.push({ record, plan: result });
      if (result.deleteKubeJob)
        deletions.push({ jobId: record.id, attempt: record.attempt, current: true });
      for (const attempt of result.deleteAttempts ?? [])
        deletions.push({ jobId: record.id, attempt, current: false });
      if (result.awaitingStorage) {
        // A resync looks again within two intervals (every Job roam created is enqueued).
        metrics.kubeJobDeletionsDeferred.inc(result.awaitingStorage.length);
        this.logger.debug(
          { jobId: record.id, tenantId: record.tenantId, attempts: result.awaitingStorage },
          'the Kubernetes Job is due for deletion; waiting for its logs and results to be stored',
        );
      }
      if (result.recheckAt) this.recheck(record.id, result.recheckAt);
    }
    if (changes.length > 0) {
      const { applied, stale } = await this.repository.apply(changes);
      for (const id of stale) this.enqueue(id);
      for (const change of applied) {
        for (const step of change.plan.steps)
          metrics.jobTransitions.inc({ event: step.event, phase: step.state.phase });
        const seen = seenAt.get(change.record.id);
        if (seen !== undefined) metrics.reconcileLag.observe(secondsSince(seen));
        const last = change.plan.steps.at(-1);
        if (last)
          this.logger.info(
            {
              jobId: change.record.id,
              tenantId: change.record.tenantId,
              phase: last.state.phase,
              reason: last.state.reason,
            },
            `job ${last.event}`,
          );
      }
    }
    const cleaned: { jobId: string; attempt: number }[] = [];
    // A few at a time: one by one, a burst's deletions held up the next batch's transitions.
    for (let i = 0; i < deletions.length; i += DELETES_IN_FLIGHT) {
      const chunk = deletions.slice(i, i + DELETES_IN_FLIGHT);
      const gone = await Promise.all(chunk.map((deletion) => this.deleteKubeJob(deletion)));
      chunk.forEach((deletion, j) => {
        if (gone[j] && deletion.current) cleaned.push(deletion);
      });
    }
    // Recorded after the deletes (recording first could leak a Job whose delete then failed).
    await this.repository.markCleaned(cleaned);
    // Looked at, all the way through: a pass that failed is retried, not skipped by the resync.
    const lookedAt = performance.now();
    for (const id of seenAt.keys()) this.lookedAt.set(id, lookedAt);
  }

  /** What the node informer knows of the node the current attempt's newest pod ran on. */
  private nodeOf(record: ReconcileRecord): { node?: NodeOfPod } {
    const name = latestPod(this.state.podsOf(record.id, record.attempt))?.spec?.nodeName;
    const node = name ? this.state.node(name) : undefined;
    return node ? { node } : {};
  }

  /** The Jobs of the job's earlier attempts the informers still hold, and when each ended. */
  private earlierAttempts(record: ReconcileRecord): EarlierAttempt[] {
    const earlier: EarlierAttempt[] = [];
    for (let attempt = 1; attempt < record.attempt; attempt += 1) {
      const object = this.state.job(record.id, attempt);
      if (object) earlier.push({ attempt, finishedAt: finishedAt(object) });
    }
    return earlier;
  }

  /** Deletes one attempt's Job; true when it is gone. */
  private async deleteKubeJob(target: Deletion): Promise<boolean> {
    const object = this.state.job(target.jobId, target.attempt);
    if (!object?.metadata?.name) return false;
    try {
      await this.state.kube.delete(
        {
          // A JobSet's Jobs and pods go with it (they are its dependents).
          apiVersion: object.apiVersion ?? 'batch/v1',
          kind: object.kind ?? 'Job',
          name: object.metadata.name,
          namespace: object.metadata.namespace,
        },
        'Background',
      );
      this.logger.info(
        { jobId: target.jobId, attempt: target.attempt },
        `deleted the Kubernetes ${object.kind ?? 'Job'}`,
      );
      return true;
    } catch (error) {
      this.logger.warn(
        { jobId: target.jobId, err: error },
        'could not delete the Kubernetes Job; will retry',
      );
      this.recheck(target.jobId, new Date(Date.now() + 5000));
      return false;
    }
  }

  private recheck(jobId: string, at: Date): void {
    if (this.stopped || this.rechecks.has(jobId)) return;
    const timer = setTimeout(
      () => {
        this.rechecks.delete(jobId);
        this.enqueue(jobId);
      },
      Math.max(0, at.getTime() - Date.now()) + 10,
    );
    timer.unref();
    this.rechecks.set(jobId, timer);
  }
}
