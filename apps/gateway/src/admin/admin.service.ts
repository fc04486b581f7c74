import { Injectable } from '@nestjs/common';
import { jobStatus, type JobStatus } from '@roam/contracts';
import { namespaceFor } from '@roam/domain';
import { Kube, MANAGED_BY_ROAM, ROAM_LABELS } from '@roam/kube';

import { toCompatStatus } from '../compat/compat.schemas.js';
import type { ActivityView, AdminJobsQuery, AdminJobsView, ClusterView } from './admin.schemas.js';
import { AdminRepository } from './admin.repository.js';
import {
  clusterView,
  countBy,
  jobTotals,
  type KubeJob,
  k8sStatusOf,
  type Node,
  type PodLite,
} from './admin.views.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** SUMO-K8's admin views over the cluster (read-only) and every tenant's jobs. */
@Injectable()
export class AdminService {
  constructor(
    private readonly repository: AdminRepository,
    private readonly kube: Kube,
  ) {}

  async cluster(): Promise<ClusterView> {
    const [nodes, pods] = await Promise.all([
      collect(this.kube.listAll<Node>('v1', 'Node')),
      collect(this.kube.listAll<PodLite>('v1', 'Pod')),
    ]);
    return clusterView(nodes, pods);
  }

  async jobs(query: AdminJobsQuery): Promise<AdminJobsView> {
    const [{ rows, total }, kubeJobs] = await Promise.all([
      this.repository.jobs(
        {
          status: query.status?.toLowerCase() as JobStatus | undefined,
          tenantId: query.tenant_id,
        },
        query.limit,
      ),
      collect(this.kube.listAll<KubeJob>('batch/v1', 'Job', { labelSelector: MANAGED_BY_ROAM })),
    ]);
    const byAttempt = new Map<string, KubeJob>();
    for (const job of kubeJobs) {
      const labels = job.metadata?.labels ?? {};
      byAttempt.set(`${labels[ROAM_LABELS.jobId]}/${labels[ROAM_LABELS.attempt]}`, job);
    }
    return {
      jobs: rows.map((row) => {
        const kubeJob = byAttempt.get(`${row.id}/${row.attempt}`);
        return {
          job_id: row.id,
          tenant_id: row.tenantId,
          namespace: namespaceFor(row.tenantId),
          name: row.name,
          status: toCompatStatus(row.status),
          phase: row.phase,
          attempt: row.attempt,
          submitted_at: row.createdAt.toISOString(),
          started_at: row.startedAt?.toISOString() ?? null,
          finished_at: row.finishedAt?.toISOString() ?? null,
          k8s_job_name: kubeJob?.metadata?.name ?? null,
          k8s_status: kubeJob ? k8sStatusOf(kubeJob) : null,
        };
      }),
      total,
    };
  }

  async activity(): Promise<ActivityView> {
    const [nodes, pods, kubeJobs, counts] = await Promise.all([
      collect(this.kube.listAll<Node>('v1', 'Node')),
      collect(this.kube.listAll<PodLite>('v1', 'Pod')),
      collect(this.kube.listAll<KubeJob>('batch/v1', 'Job')),
      this.repository.countsByStatus(),
    ]);
    return {
      timestamp: new Date().toISOString(),
      nodes: nodes.length,
      pods: countBy(pods, (pod) => pod.status?.phase ?? 'Unknown'),
      k8s_jobs: jobTotals(kubeJobs),
      db_jobs: Object.fromEntries(
        jobStatus.options.map((status) => [toCompatStatus(status), counts[status] ?? 0]),
      ) as ActivityView['db_jobs'],
    };
  }
}
