import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { awaitsCheck, type KueueWorkload, workloadVerdict } from '@roam/domain';
import {
  attemptOfObjectName,
  type Informer,
  Kube,
  type KubernetesObject,
  type ObjectCache,
} from '@roam/kube';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../../scheduler.config.js';

export type WorkloadObject = KubernetesObject &
  KueueWorkload & {
    metadata?: { ownerReferences?: { kind: string; name: string }[] };
  };

/**
 * The Job or JobSet a Workload was made for (an attempt's object, whichever kind it is): Kueue
 * names it in the Workload's ownerReferences.
 */
export const ownerJob = (w: WorkloadObject): string | undefined =>
  w.metadata?.ownerReferences?.find((o) => o.kind === 'Job' || o.kind === 'JobSet')?.name;

/** A Job (or JobSet) of roam whose Workload Kueue evicted. */
export interface EvictedJob {
  id: string;
  attempt: number;
  namespace: string;
}

/**
 * ROAM_ADMISSION=kueue: an informer cache of Kueue's Workloads, indexed by the Job each was
 * made for, so an admission cycle never lists the cluster. Every change wakes the cycle.
 */
@Injectable()
export class KueueWorkloads implements OnApplicationBootstrap, OnModuleDestroy {
  private informer?: Informer<WorkloadObject> & ObjectCache<WorkloadObject>;
  private readonly byJob = new Map<string, WorkloadObject>();
  /**
   * Keys (`namespace/object`) of roam Jobs and JobSets whose Workload is evicted: a running job
   * may be one.
   */
  private readonly evictedKeys = new Set<string>();
  /** Workloads (`namespace/name`) whose roam AdmissionCheck waits for an answer. */
  private readonly checking = new Map<string, WorkloadObject>();
  private stopped = false;
  private listener: () => void = () => undefined;

  constructor(
    private readonly kube: Kube,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Called on every Workload change (the admission loop wakes). */
  onChange(listener: () => void): void {
    this.listener = listener;
  }

  onApplicationBootstrap(): void {
    if (this.config.ROAM_ADMISSION === 'kueue') void this.start(1000);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
  }

  /** The Workload Kueue made for the Job or JobSet `namespace/job`, if any. */
  of(namespace: string, job: string): KueueWorkload | undefined {
    return this.byJob.get(`${namespace}/${job}`);
  }

  /** roam's Jobs whose Workloads Kueue evicted (preempted, say). */
  evicted(): EvictedJob[] {
    const out: EvictedJob[] = [];
    for (const key of this.evictedKeys) {
      const [namespace = '', job = ''] = key.split('/');
      const attempt = attemptOfObjectName(job);
      if (attempt) out.push({ id: attempt.jobId, attempt: attempt.attempt, namespace });
    }
    return out;
  }

  /** Workloads that reserved quota and wait for roam's AdmissionCheck (KUEUE_ADMISSION_CHECK). */
  awaitingCheck(): WorkloadObject[] {
    return [...this.checking.values()];
  }

  /** Keeps trying (Kueue's CRDs may be installed after roam): admission waits meanwhile. */
  private async start(delayMs: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.informer?.stop();
      const informer = this.kube.informer<WorkloadObject>(
        '/apis/kueue.x-k8s.io/v1beta1/workloads',
        'kueue.x-k8s.io/v1beta1',
        'Workload',
      );
      this.informer = informer;
      const put = (w: WorkloadObject) => {
        const name = `${w.metadata?.namespace}/${w.metadata?.name}`;
        if (awaitsCheck(w, this.config.KUEUE_ADMISSION_CHECK)) this.checking.set(name, w);
        else this.checking.delete(name);
        const job = ownerJob(w);
        if (!job) return;
        const key = `${w.metadata?.namespace}/${job}`;
        this.byJob.set(key, w);
        if (workloadVerdict(w).kind === 'evicted') this.evictedKeys.add(key);
        else this.evictedKeys.delete(key);
        this.listener();
      };
      const drop = (w: WorkloadObject) => {
        this.checking.delete(`${w.metadata?.namespace}/${w.metadata?.name}`);
        const job = ownerJob(w);
        if (!job) return;
        const key = `${w.metadata?.namespace}/${job}`;
        if (this.byJob.get(key)?.metadata?.uid === w.metadata?.uid) {
          this.byJob.delete(key);
          this.evictedKeys.delete(key);
        }
        this.listener();
      };
      informer.on('add', put);
      informer.on('update', put);
      informer.on('delete', drop);
      informer.on('error', (error: unknown) =>
        this.logger.warn({ err: error }, 'Workload informer error; it re-lists'),
      );
      await informer.start();
      this.logger.info('following Kueue Workloads');
      this.listener();
    } catch (error) {
      this.logger.warn({ err: error, retryInMs: delayMs }, 'cannot watch Kueue Workloads yet');
      setTimeout(() => void this.start(Math.min(delayMs * 2, 30_000)), delayMs).unref();
    }
  }
}
