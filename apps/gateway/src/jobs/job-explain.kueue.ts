import { Inject, Injectable } from '@nestjs/common';
import {
  type KueueWorkload,
  kueueWaitReason,
  type WaitReason,
  workloadVerdict,
} from '@roam/domain';
import { multiPodKind } from '@roam/contracts';
import { attemptObjectRef, Kube } from '@roam/kube';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import type { ExplainView } from './job-explain.view.js';
import type { JobRow } from './jobs.repository.js';

const KUEUE = 'kueue.x-k8s.io/v1beta1';
const VISIBILITY = '/apis/visibility.kueue.x-k8s.io/v1beta1';

interface PendingWorkloads {
  items?: {
    metadata?: { name?: string };
    positionInLocalQueue?: number;
    positionInClusterQueue?: number;
  }[];
}

type Base = Pick<ExplainView, 'job_id' | 'status' | 'phase'>;

/**
 * "Why is my job still pending?" when Kueue admits (ROAM_ADMISSION=kueue): what the job's
 * Workload says (Kueue's condition reason and message) and, when the cluster serves Kueue's
 * visibility API, where it stands in its LocalQueue and ClusterQueue. Read from Kubernetes at
 * the question, never written.
 */
@Injectable()
export class KueueExplainer {
  constructor(
    private readonly kube: Kube,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async explain(base: Base, job: JobRow, namespace: string): Promise<ExplainView> {
    try {
      return await this.fromWorkload(base, job, namespace);
    } catch (error) {
      // The answer is about Kubernetes' state: when it cannot be read, say so (never a 500).
      this.logger.warn({ err: error, jobId: job.id }, 'cannot read the Kueue Workload for explain');
      return {
        ...base,
        pending: true,
        admission: 'kueue',
        summary:
          "Kueue's view of the job cannot be read from Kubernetes right now; ask again shortly",
      };
    }
  }

  private async fromWorkload(base: Base, job: JobRow, namespace: string): Promise<ExplainView> {
    const spec = (job.spec ?? {}) as Parameters<typeof multiPodKind>[0] & { queue?: string };
    const queue = spec.queue ?? 'user-queue';
    // A job with replicated jobs waits in Kueue as a JobSet, its Workload made for that.
    const jobSet = multiPodKind(spec) === 'jobset';
    const waiting = (summary: string, reason: WaitReason = 'WaitingForQuota'): ExplainView => ({
      ...base,
      pending: true,
      admission: 'kueue',
      summary,
      reason,
    });
    if (job.retryAt !== null && job.retryAt > new Date())
      return waiting(`waiting to retry until ${job.retryAt.toISOString()}`);
    const object = attemptObjectRef(jobSet, job.id, job.attempt);
    const { kind } = object;
    const kubeJob = await this.kube.get<{ metadata?: { uid?: string } }>({ ...object, namespace });
    if (!kubeJob?.metadata?.uid)
      return waiting(`its ${kind} is being created in Kueue's LocalQueue ${queue}`);
    const { items } = await this.kube.list<KueueWorkload & { metadata?: { name?: string } }>(
      KUEUE,
      'Workload',
      { namespace, labelSelector: `kueue.x-k8s.io/job-uid=${kubeJob.metadata.uid}`, limit: 1 },
    );
    const workload = items[0];
    if (!workload?.metadata?.name)
      return waiting(`Kueue has not made a Workload for its ${kind} yet (LocalQueue ${queue})`);
    const verdict = workloadVerdict(workload);
    if (verdict.kind === 'admitted' || verdict.kind === 'finished')
      return {
        ...base,
        pending: false,
        admission: 'kueue',
        summary: `Kueue has admitted it (ClusterQueue ${verdict.clusterQueue}); roam records it on its next cycle`,
      };
    if (verdict.kind === 'unseen')
      return waiting(`Kueue has not considered its Workload ${workload.metadata.name} yet`);
    const position = await this.position(namespace, queue, workload.metadata.name);
    const where =
      position?.positionInLocalQueue !== undefined
        ? `; number ${position.positionInLocalQueue + 1} in LocalQueue ${queue}`
        : '';
    return {
      ...waiting(
        `Kueue ${verdict.reason}: ${verdict.message}${where}`,
        verdict.kind === 'pending' ? kueueWaitReason(verdict.message) : 'WaitingForQuota',
      ),
      kueue: {
        workload: workload.metadata.name,
        local_queue: queue,
        reason: verdict.reason,
        message: verdict.message,
        ...(position?.positionInLocalQueue !== undefined
          ? { position_in_local_queue: position.positionInLocalQueue }
          : {}),
        ...(position?.positionInClusterQueue !== undefined
          ? { position_in_cluster_queue: position.positionInClusterQueue }
          : {}),
      },
    };
  }

  /** The workload's place from the visibility API; undefined when the cluster does not serve it. */
  private async position(namespace: string, queue: string, workload: string) {
    try {
      const summary = await this.kube.getPath<PendingWorkloads>(
        `${VISIBILITY}/namespaces/${encodeURIComponent(namespace)}/localqueues/${encodeURIComponent(queue)}/pendingworkloads`,
        'PendingWorkloadsSummary',
      );
      return summary?.items?.find((item) => item.metadata?.name === workload);
    } catch (error) {
      this.logger.debug({ err: error, namespace, queue }, 'no Kueue visibility API');
      return undefined;
    }
  }
}
