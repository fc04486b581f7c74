import { Module } from '@nestjs/common';
import { Kube } from '@roam/kube';
import { kubeProvider } from '@roam/runtime';

import { ArchiveLogSource } from './archive-log-source.js';
import { JobLogsRepository } from './job-logs.repository.js';
import { KubernetesLogSource } from './kubernetes-log-source.js';
import { ObjectStoreLogArchive } from './log-archive.js';
import { LOG_ARCHIVE } from './log-source.js';
import { objectStoreProvider } from '@roam/runtime';
import { OpenStreamsModule } from '../events/open-streams.js';
import { LogsController } from './logs.controller.js';
import { LogsService } from './logs.service.js';

/**
 * Job logs. Also the gateway's read-only door to Kubernetes (`Kube` is exported for the compat
 * and admin views); the gateway never writes to the cluster.
 */
@Module({
  imports: [OpenStreamsModule],
  controllers: [LogsController],
  providers: [
    kubeProvider,
    JobLogsRepository,
    KubernetesLogSource,
    ArchiveLogSource,
    // Archives written by the storage worker, read once the pod is gone (docs/storage.md).
    objectStoreProvider,
    { provide: LOG_ARCHIVE, useClass: ObjectStoreLogArchive },
    LogsService,
  ],
  exports: [Kube, LogsService, OpenStreamsModule],
})
export class LogsModule {}
