import { Inject, Injectable } from '@nestjs/common';
import type { ObjectStore } from '@roam/object-store';
import { APP_CONFIG, LOGGER, OBJECT_STORE, PeriodicSweep } from '@roam/runtime';
import type { Logger } from 'pino';

import type { StorageConfig } from '../storage.config.js';
import { StorageRepository } from '../storage.repository.js';

const BATCH = 500;

/**
 * Deletes results older than their tenant's `results_retention_days` (null = kept forever), on
 * a timer: object first, then its row, so a crash in between only repeats a delete.
 */
@Injectable()
export class RetentionLoop extends PeriodicSweep<number> {
  constructor(
    private readonly repository: StorageRepository,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) config: StorageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super('results retention sweep', config.RETENTION_INTERVAL_MS, logger);
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
