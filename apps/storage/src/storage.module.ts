import { Module } from '@nestjs/common';
import { kubeProvider, objectStoreProvider } from '@roam/runtime';

import { StorageHealthController } from './backlog/storage-health.controller.js';
import { StorageSweepLoop } from './backlog/storage-sweep.loop.js';
import { RetentionLoop } from './retention/retention.loop.js';
import { StorageEventsHandler } from './storage-events.handler.js';
import { StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';

/**
 * The storage worker: every attempt's log and every finished job's results, kept before the
 * reconciler deletes the pods; the backlog sweep and its health; results retention.
 */
@Module({
  controllers: [StorageEventsHandler, StorageHealthController],
  providers: [
    kubeProvider,
    objectStoreProvider,
    StorageRepository,
    StorageService,
    StorageSweepLoop,
    RetentionLoop,
  ],
})
export class StorageModule {}
