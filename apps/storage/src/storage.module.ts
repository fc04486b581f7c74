import { Module } from '@nestjs/common';
import { kubeProvider, objectStoreProvider } from '@roam/runtime';

import { RetentionLoop } from './retention/retention.loop.js';
import { StorageEventsHandler } from './storage-events.handler.js';
import { StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';

/** The storage worker: results and log archives of finished jobs, and results retention. */
@Module({
  controllers: [StorageEventsHandler],
  providers: [kubeProvider, objectStoreProvider, StorageRepository, StorageService, RetentionLoop],
})
export class StorageModule {}
