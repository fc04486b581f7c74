import { resultSlotsOf } from '@roam/contracts';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Kube, type KubernetesObject } from '@roam/kube';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../scheduler.config.js';
import { AdmissionRepository, type AdmittedRow } from './admission.repository.js';
import { type JobFiles, JobFilesService } from './job-files.js';
import {
  attemptManifest,
  attemptObjectName,
  deadlineSeconds,
  type ManifestInput,
  sliceHosts,
  sliceServiceManifest,
} from './job-manifest.js';

interface Created {
  id: string;
  attempt: number;
  namespace: string;
  job: string;
}

/** Confirmations are written together once this many have gathered… */
const CONFIRM_BATCH = 500;
/** …or this long after the first of them, or when creates go idle. */
const CONFIRM_DELAY_MS = 100;

/**
 * Turns admitted jobs into Kubernetes Jobs beside the admission loop, not inside it: a cycle
 * hands its admitted rows over and returns, so the next cycle admits while these are created.
 * At most `KUBE_CREATE_CONCURRENCY` creates are in flight (the Kube client's QPS/burst bound
 * their rate); their placements are confirmed in one statement per batch. A job is queued once:
 * `ensureCreated()` re-offering a job still queued or in flight is a no-op. A crash loses only
 * the queue, and admitted jobs without a confirmed Job are offered again after the grace period.
 */
@Injectable()
export class JobCreator implements OnModuleDestroy {
  /** Waiting creates, oldest first; `head` is the next one (no O(n) shift on a long queue). */
  private queue: { row: AdmittedRow; files?: JobFiles }[] = [];
  private head = 0;
  /** Ids queued or being created. */
  private readonly pending = new Set<string>();
  private confirmations: Created[] = [];
  private confirmTimer?: NodeJS.Timeout;
  private active = 0;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly kube: Kube,
    private readonly repository: AdmissionRepository,
    private readonly files: JobFilesService,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Queues the rows not already queued or in flight; returns how many were new. */
  async enqueue(rows: readonly AdmittedRow[]): Promise<number> {
    if (this.stopped) return 0;
    const fresh = rows.filter((row) => !this.pending.has(row.id));
    if (fresh.length === 0) return 0;
    for (const row of fresh) this.pending.add(row.id);
    let files: Map<string, JobFiles>;
    try {
      files = await this.files.forJobs(
        fresh.map((row) => ({
          id: row.id,
          tenantId: row.tenantId,
          attempt: row.attempt,
          deadlineSeconds: deadlineSeconds(row.spec, this.config.DEFAULT_MAX_DURATION_SECONDS),
          inputsKey: row.inputsKey,
          inputsFromDependencies: row.spec.inputs_from_dependencies === true,
          resultSlots: resultSlotsOf(row.spec),
        })),
      );
    } catch (error) {
      for (const row of fresh) this.pending.delete(row.id);
      throw error;
    }
    if (this.stopped) {
      for (const row of fresh) this.pending.delete(row.id);
      return 0;
    }
    // A job whose dependencies' results are not stored yet is left for ensureCreated().
    const ready = fresh.filter((row) => files.has(row.id));
    for (const row of fresh) if (!files.has(row.id)) this.pending.delete(row.id);
    for (const row of ready) this.queue.push({ row, files: files.get(row.id) });
    this.pump();
    return ready.length;
  }

  /** Resolves once nothing is queued, in flight or waiting to be confirmed. */
  async idle(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.flushing;
  }

  /** Jobs queued or being created. */
  get backlog(): number {
    return this.pending.size;
  }

  /** Drops what is still queued (recovered after restart) and waits for creates in flight. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const { row } of this.queue.slice(this.head)) this.pending.delete(row.id);
    this.queue = [];
    this.head = 0;
    this.settle();
    await this.idle();
  }

  private pump(): void {
    while (this.active < this.config.KUBE_CREATE_CONCURRENCY && this.head < this.queue.length) {
      const next = this.queue[this.head++]!;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      this.active += 1;
      void this.create(next.row, next.files).finally(() => {
        this.active -= 1;
        this.pending.delete(next.row.id);
        this.pump();
        this.settle();
      });
    }
  }

  private async create(row: AdmittedRow, files: JobFiles | undefined): Promise<void> {
    try {
      const input: ManifestInput = {
        ...row,
        defaultMaxDurationSeconds: this.config.DEFAULT_MAX_DURATION_SECONDS,
        ...(files ? { files } : {}),
      };
      if (sliceHosts(input) > 1) {
        const { object } = await this.kube.createOrAdopt<KubernetesObject>(attemptManifest(input));
        // A multi-host TPU slice's headless Service, owned by its Job (the pods' DNS names).
        const service = sliceServiceManifest(input, { uid: object.metadata?.uid ?? '' });
        if (service) await this.kube.createIfAbsent(service);
      } else {
        // Nothing is read back: the Job's name is all the confirmation needs.
        await this.kube.createIfAbsent(attemptManifest(input));
      }
      this.confirmations.push({
        id: row.id,
        attempt: row.attempt,
        namespace: row.namespace,
        job: attemptObjectName(row.spec, row.id, row.attempt),
      });
      if (this.confirmations.length >= CONFIRM_BATCH) this.flush();
      else this.confirmTimer ??= setTimeout(() => this.flush(), CONFIRM_DELAY_MS);
    } catch (error) {
      // Left unconfirmed: ensureCreated() offers it again after the grace period.
      this.logger.warn(
        { jobId: row.id, tenantId: row.tenantId, err: error },
        'could not create the Kubernetes Job',
      );
    }
  }

  /** When creates go idle: confirm what is left, then wake whoever waits for idleness. */
  private settle(): void {
    if (this.pending.size > 0) return;
    this.flush();
    const waiters = this.idleWaiters.splice(0);
    if (waiters.length > 0) void this.flushing.then(() => waiters.forEach((wake) => wake()));
  }

  /** One statement for every confirmation gathered; chained so writes never overlap. */
  private flush(): void {
    clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
    if (this.confirmations.length === 0) return;
    const batch = this.confirmations;
    this.confirmations = [];
    this.flushing = this.flushing.then(() =>
      this.repository.confirmCreated(batch).catch((error: unknown) =>
        // The Jobs exist: ensureCreated() adopts them and confirms again.
        this.logger.warn({ err: error, count: batch.length }, 'could not confirm created Jobs'),
      ),
    );
  }
}
