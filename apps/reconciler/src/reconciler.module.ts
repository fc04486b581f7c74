import { Module } from '@nestjs/common';
import { JobCountsSampler, kubeProvider } from '@roam/runtime';

import { ArrayCancelLoop } from './array-cancel.loop.js';
import { JobCancelHandler } from './job-cancel.handler.js';
import { KubeState } from './kube-state.js';
import { ReconcileRepository } from './reconcile.repository.js';
import { ReconcilerService } from './reconciler.service.js';

/** Watches roam's Kubernetes Jobs and Pods and moves jobs forward. */
@Module({
  controllers: [JobCancelHandler],
  // JobCountsSampler: `roam_jobs{status,tenant}` is reported by the reconciler only.
  providers: [
    kubeProvider,
    KubeState,
    ReconcileRepository,
    ReconcilerService,
    JobCountsSampler,
    // Finishes the array cancels the gateway accepted (202).
    ArrayCancelLoop,
  ],
})
export class ReconcilerModule {}
