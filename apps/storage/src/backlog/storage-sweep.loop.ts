import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { ObjectStore } from '@roam/object-store';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth, OBJECT_STORE } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

import type { StorageConfig } from '../storage.config.js';
import { StorageRepository } from '../storage.repository.js';
import { StorageService } from '../storage.service.js';

/** How far behind the storage worker is, as `/health/storage` reports it. */
export interface BacklogReport {
  /** Finished jobs whose logs and results are not stored yet. */
  jobs: number;
  /** Seconds since the oldest of them finished; 0 when there is none. */
  oldestAgeSeconds: number;
}

/**
 * Level-triggered storage (docs/architecture.md#rule-3): on a timer, measures the backlog
 * (`roam_storage_backlog_jobs`, `roam_storage_backlog_oldest_age_seconds`) and stores what it
 * finds, so a lost, late or dead-lettered event delays storage but never skips a job (and its
 * Kubernetes Job is never held forever).
 */
@Injectable()
export class StorageSweepLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;

  constructor(
    private readonly repository: StorageRepository,
    private readonly storage: StorageService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: StorageConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.loop = new Loop({
      name: 'storage sweep',
      intervalMs: config.STORAGE_SWEEP_INTERVAL_MS,
      logger,
      runAtStart: true,
      pass: (signal) => this.sweep(signal),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    if (this.store) this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** Measures the backlog now and sets its metrics. */
  async measure(now = new Date()): Promise<BacklogReport> {
    const backlog = await this.repository.backlog();
    const age = backlog.oldestFinishedAt
      ? Math.max(0, (now.getTime() - backlog.oldestFinishedAt.getTime()) / 1000)
      : 0;
    metrics.storageBacklogJobs.set(backlog.jobs);
    metrics.storageBacklogAge.set(age);
    return { jobs: backlog.jobs, oldestAgeSeconds: age };
  }

  /** One pass: measure, then work the backlog off a batch at a time, oldest first. */
  async sweep(signal?: AbortSignal): Promise<number> {
    await this.measure();
    let stored = 0;
    const seen = new Set<string>();
    while (!signal?.aborted) {
      const ids = (await this.repository.unstored(this.config.STORAGE_BATCH)).filter(
        (id) => !seen.has(id),
      );
      if (ids.length === 0) break;
      for (const id of ids) seen.add(id);
      // A job that fails here is logged by the service and found again by the next pass.
      const results = await Promise.allSettled(ids.map((id) => this.storage.storeJob(id)));
      stored += results.filter((result) => result.status === 'fulfilled').length;
      await this.measure();
    }
    return stored;
  }
}
