import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { ObjectStore } from '@roam/object-store';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import { OBJECT_STORE } from '@roam/runtime';
import type { StorageConfig } from '../storage.config.js';
import { StorageRepository } from '../storage.repository.js';

const BATCH = 500;

/**
 * Deletes results older than their tenant's `results_retention_days` (null = kept forever), on
 * a timer: object first, then its row, so a crash in between only repeats a delete.
 */
@Injectable()
export class RetentionLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly repository: StorageRepository,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: StorageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.sweep(new Date());
    try {
      await this.running;
    } catch (error) {
      this.logger.warn({ err: error }, 'results retention sweep failed');
    } finally {
      this.running = undefined;
    }
  }

  /** One sweep; returns how many files it deleted. */
  async sweep(now: Date): Promise<number> {
    const store = this.store;
    if (!store) return 0;
    let deleted = 0;
    for (;;) {
      const expired = await this.repository.expiredResults(now, BATCH);
      for (const file of expired) {
        await store.remove(file.storageKey);
        await this.repository.deleteResult(file.jobId, file.path);
      }
      deleted += expired.length;
      if (expired.length < BATCH) break;
    }
    if (deleted > 0) this.logger.info({ deleted }, 'deleted results past their retention');
    return deleted;
  }
}
