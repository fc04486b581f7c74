import { Module } from '@nestjs/common';
import { Kube } from '@roam/kube';
import { APP_CONFIG, kubeProvider } from '@roam/runtime';

import { objectStoreProvider } from '@roam/runtime';
import { NoPodFiles, POD_FILES, SimulatorPodFiles } from './results/pod-files.js';
import { RetentionLoop } from './retention/retention.loop.js';
import { StorageEventsHandler } from './storage-events.handler.js';
import type { StorageConfig } from './storage.config.js';
import { StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';

/** The storage worker: results and log archives of finished jobs, and results retention. */
@Module({
  controllers: [StorageEventsHandler],
  providers: [
    kubeProvider,
    objectStoreProvider,
    {
      provide: POD_FILES,
      inject: [APP_CONFIG, Kube],
      useFactory: (config: StorageConfig, kube: Kube) =>
        config.RESULTS_COLLECTOR === 'simulator' ? new SimulatorPodFiles(kube) : new NoPodFiles(),
    },
    StorageRepository,
    StorageService,
    RetentionLoop,
  ],
})
export class StorageModule {}
