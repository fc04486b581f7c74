import { Module } from '@nestjs/common';
import { kubeProvider, objectStoreProvider } from '@roam/runtime';

import { OffloadLoop } from './offload.loop.js';
import { OffloadRepository } from './offload.repository.js';
import { OffloadService } from './offload.service.js';
import { ProbesController } from './probes.controller.js';
import { runpodProvider } from './runpod.provider.js';

/** The offload worker (the RunPod controller; docs/offload.md). */
@Module({
  controllers: [ProbesController],
  providers: [
    kubeProvider,
    objectStoreProvider,
    runpodProvider,
    OffloadRepository,
    OffloadService,
    OffloadLoop,
  ],
})
export class OffloadModule {}
