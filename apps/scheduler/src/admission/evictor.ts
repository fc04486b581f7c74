import { Inject, Injectable } from '@nestjs/common';
import { attemptObjectRef, Kube } from '@roam/kube';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../scheduler.config.js';
import { ClusterView } from './cluster-view.js';

/** A preempted attempt whose Kubernetes objects must go. */
export interface Eviction {
  jobId: string;
  namespace: string;
  attempt: number;
  /** The attempt runs as a JobSet (the job has replicated jobs), not as a Job. */
  jobSet: boolean;
}

/**
 * Stops preempted attempts once the cycle that preempted them has committed: their pods are
 * deleted with `PREEMPTION_GRACE_SECONDS` between SIGTERM and SIGKILL, then their Job (or JobSet). The job
 * is already requeued as a new attempt, with a new Job name, so its next run never adopts the
 * Job being torn down. A failed delete is logged; the reconciler removes an earlier attempt's
 * Job that never finished in any case, once its log is stored (`planReconcile`).
 */
@Injectable()
export class Evictor {
  constructor(
    private readonly kube: Kube,
    private readonly cluster: ClusterView,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async evict(evictions: readonly Eviction[]): Promise<void> {
    const grace = this.config.PREEMPTION_GRACE_SECONDS;
    await Promise.all(
      evictions.map(async ({ jobId, namespace, attempt, jobSet }) => {
        try {
          for (const pod of this.cluster.podsOf(jobId, attempt)) {
            await this.kube.delete({ apiVersion: 'v1', kind: 'Pod', ...pod }, 'Background', grace);
          }
          // A JobSet goes whole: its child Jobs would recreate the pods deleted above.
          await this.kube.delete(
            { ...attemptObjectRef(jobSet, jobId, attempt), namespace },
            'Background',
            grace,
          );
          this.logger.info({ jobId, attempt, graceSeconds: grace }, 'preempted: deleting its Job');
        } catch (error) {
          this.logger.warn({ jobId, attempt, err: error }, 'could not delete a preempted Job');
        }
      }),
    );
  }
}
