import { Injectable } from '@nestjs/common';
import { jobStatus } from '@roam/contracts';
import { Kube, type KubernetesObject } from '@roam/kube';
import { ProblemError, problemTypes } from '@roam/runtime';

import type { Pod } from '../logs/logs.service.js';
import { tenantView } from '../tenants/tenant.view.js';
import type { Dashboard } from './compat.schemas.js';
import { CompatRepository } from './compat.repository.js';
import { compatJobView } from './compat.views.js';

/** The per-tenant quota the scheduler provisions (apps/scheduler, `QUOTA_NAME`). */
export const QUOTA_NAME = 'roam-quota';
const RECENT_JOBS = 10;

type ResourceQuota = KubernetesObject & {
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
};

@Injectable()
export class DashboardService {
  constructor(
    private readonly repository: CompatRepository,
    private readonly kube: Kube,
  ) {}

  async dashboard(tenantId: string): Promise<Dashboard> {
    const tenant = await this.repository.tenant(tenantId);
    if (!tenant)
      throw new ProblemError(
        404,
        problemTypes.notFound,
        'Not found',
        `tenant ${tenantId} not found`,
      );
    const [quota, pods, recent, counts] = await Promise.all([
      this.kube.get<ResourceQuota>({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        name: QUOTA_NAME,
        namespace: tenant.namespace,
      }),
      this.kube.list<Pod>('v1', 'Pod', { namespace: tenant.namespace }),
      this.repository.recentJobs(tenantId, RECENT_JOBS),
      this.repository.countsByStatus(tenantId),
    ]);
    const view = tenantView(tenant);
    return {
      tenant_id: tenant.id,
      namespace: tenant.namespace,
      plan_limits: {
        max_cpu: view.max_cpu,
        max_memory_gi: view.max_memory_gi,
        max_gpu: view.max_gpu,
        max_concurrent_jobs: view.max_concurrent_jobs,
      },
      current_usage: quota?.status?.used ?? {},
      quota_hard: quota?.status?.hard ?? {},
      running_pods: pods.items.filter((pod) => pod.status?.phase === 'Running').length,
      recent_jobs: recent.map(compatJobView),
      stats: Object.fromEntries(
        jobStatus.options.map((status) => [status, counts[status] ?? 0]),
      ) as Dashboard['stats'],
    };
  }
}
