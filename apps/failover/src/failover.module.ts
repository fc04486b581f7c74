import { Module } from '@nestjs/common';
import { kubeProvider } from '@roam/runtime';

import { ActionCommandsHandler } from './actions/action-commands.handler.js';
import { ActionResumeLoop } from './actions/action-resume.loop.js';
import { ActionRunner } from './actions/action-runner.service.js';
import { ActionRunsRepository } from './actions/action-runs.repository.js';
import { ClusterSnapshotReader } from './actions/cluster-snapshot.js';
import { StepExecutor } from './actions/step-executor.js';
import { computeProvider } from './compute.provider.js';

/** The failover worker: runs node-pool actions (the failover controller) recorded by the gateway. */
@Module({
  controllers: [ActionCommandsHandler],
  providers: [
    kubeProvider,
    computeProvider,
    ActionRunsRepository,
    ClusterSnapshotReader,
    StepExecutor,
    ActionRunner,
    ActionResumeLoop,
  ],
})
export class FailoverModule {}
