import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { pendingJobs, type PrismaClient, queueStanding, tenantStates } from '@roam/db';
import { explain } from '@roam/domain';
import { APP_CONFIG, PRISMA } from '@roam/runtime';

import type { ExplainView } from './job-explain.view.js';
import { JobsService } from './jobs.service.js';
import { NodeCapacityCache } from './node-capacity.cache.js';

/**
 * "Why is my job still pending?": builds the snapshot the scheduler
 * would decide on (Postgres for tenants and pending jobs, the node cache for capacity) and asks
 * the domain's `explain`, which runs the scheduler's own `decide`.
 */
@Injectable()
export class JobExplainService {
  constructor(
    private readonly jobs: JobsService,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly nodes: NodeCapacityCache,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async explain(tenantId: string, id: string): Promise<ExplainView> {
    const job = await this.jobs.get(tenantId, id);
    const base = { job_id: job.id, status: job.status, phase: job.phase };
    if (job.status !== 'pending' || job.admittedAt !== null) {
      const state = job.status === 'pending' ? 'admitted and starting' : job.status;
      return {
        ...base,
        pending: false,
        summary: `the job is not waiting for admission: it is ${state} (${job.phase})`,
      };
    }
    const [tenants, pending, nodes] = await Promise.all([
      tenantStates(this.prisma),
      // The scheduler's window, so a job it cannot see is not explained as if it could.
      pendingJobs(this.prisma, {
        perTenant: this.config.ADMISSION_MAX_PENDING_PER_TENANT,
        total: this.config.ADMISSION_MAX_PENDING,
      }),
      this.nodes.current(),
    ]);
    const explanation = explain({ tenants, pending, nodes, now: new Date() }, job.id);
    if (!explanation) {
      // Pending but outside the snapshot: a retry backs off, its tenant is not ready yet, or it
      // is deeper in its tenant's queue than the window a cycle reads.
      if (job.retryAt !== null && job.retryAt > new Date()) {
        return {
          ...base,
          pending: true,
          summary: `waiting to retry until ${job.retryAt.toISOString()}`,
        };
      }
      const standing = await queueStanding(this.prisma, tenantId, job.id);
      return {
        ...base,
        pending: true,
        summary:
          standing && standing.tenantReady
            ? `number ${standing.position} of ${standing.waiting} in tenant ${tenantId}'s queue, deeper than the jobs an admission cycle considers per tenant: it moves up as the ${standing.position - 1} ahead of it are admitted`
            : `tenant ${tenantId} is not ready yet (its namespace is being provisioned)`,
      };
    }
    return {
      ...base,
      pending: true,
      summary: explanation.summary,
      admitted: explanation.admitted,
      ...(explanation.node ? { node: explanation.node } : {}),
      ...(explanation.reason ? { reason: explanation.reason } : {}),
      ...(explanation.blocker ? { blocker: explanation.blocker } : {}),
      ...(explanation.position ? { position: explanation.position } : {}),
      unblock: explanation.unblock,
    };
  }
}
