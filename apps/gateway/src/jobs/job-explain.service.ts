import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { pendingJobs, Prisma, type PrismaClient, queueStanding, tenantStates } from '@roam/db';
import { type AdmissionDecision, decide, explainDecision, type Snapshot } from '@roam/domain';
import { APP_CONFIG, PRISMA } from '@roam/runtime';

import { DependenciesService } from './dependencies.service.js';
import { KueueExplainer } from './job-explain.kueue.js';
import type { ExplainView } from './job-explain.view.js';
import { JobsService } from './jobs.service.js';
import type { JobRow } from './jobs.repository.js';
import { NodeCapacityCache } from './node-capacity.cache.js';

/**
 * How far before a shared decision a job may have been queued and still be missing from it
 * (its transaction had not committed when the decision read the pending jobs).
 */
const QUEUED_SLACK_MS = 1000;

/** One admission decision and the snapshot it was taken on. */
interface Decided {
  snapshot: Snapshot;
  decision: AdmissionDecision;
}

/** What a JobSet's restarts mean, for `/explain`. */
function restartsOf(job: JobRow): { count: number; message: string } {
  const max = (job.spec as { failure_policy?: { max_restarts?: number } }).failure_policy
    ?.max_restarts;
  const current = job.restartsAttempt === job.attempt ? job.attemptRestarts : 0;
  return {
    count: job.restarts,
    message: `its JobSet was restarted ${job.restarts} time${job.restarts === 1 ? '' : 's'} by its failure policy (${current} in attempt ${job.attempt}, at most ${max ?? 0} per attempt): each restart recreated every pod and used none of roam's retries`,
  };
}

/**
 * "Why is my job still pending?": builds the snapshot the scheduler would decide on (Postgres
 * for tenants and pending jobs, the node cache for capacity), runs the scheduler's own
 * `decide` on it and explains the caller's job from the result.
 *
 * A decision covers every pending job of every tenant, so it is shared: one decision answers
 * every caller of this replica for EXPLAIN_CACHE_MS, and concurrent callers wait for the same
 * one. However often tenants ask, the cost is at most one decision per interval (plus one for
 * a job queued after the shared decision was taken). The answer shows only the caller's own
 * jobs; other tenants appear as counts.
 */
@Injectable()
export class JobExplainService {
  private cached: Decided | undefined;
  private deciding: Promise<Decided> | undefined;

  constructor(
    private readonly jobs: JobsService,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly nodes: NodeCapacityCache,
    private readonly kueue: KueueExplainer,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly dependencies: DependenciesService,
  ) {}

  /** The shared decision, taken at or after `notBefore` when given. */
  private async decided(notBefore?: Date): Promise<Decided> {
    const fresh = (d: Decided | undefined): d is Decided =>
      d !== undefined &&
      Date.now() - d.snapshot.now.getTime() < this.config.EXPLAIN_CACHE_MS &&
      (notBefore === undefined || d.snapshot.now >= notBefore);
    if (fresh(this.cached)) return this.cached;
    const joined = await this.decideOnce();
    if (notBefore === undefined || joined.snapshot.now >= notBefore) return joined;
    return this.decideOnce();
  }

  private decideOnce(): Promise<Decided> {
    this.deciding ??= this.decideNow().finally(() => {
      this.deciding = undefined;
    });
    return this.deciding;
  }

  private async decideNow(): Promise<Decided> {
    const now = new Date();
    const [{ tenants, pending }, nodes] = await Promise.all([
      // One snapshot for both readings: read apart, a job the scheduler admits in between
      // would be missing from both what its tenant holds and what is pending, and the next
      // job would look admissible.
      this.prisma.$transaction(
        async (tx) => ({
          tenants: await tenantStates(tx),
          // The scheduler's window, so a job it cannot see is not explained as if it could.
          pending: await pendingJobs(tx, {
            perTenant: this.config.ADMISSION_MAX_PENDING_PER_TENANT,
            total: this.config.ADMISSION_MAX_PENDING,
          }),
        }),
        { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
      ),
      this.nodes.current(),
    ]);
    const snapshot: Snapshot = { tenants, pending, nodes, now };
    const decided = { snapshot, decision: decide(snapshot) };
    this.cached = decided;
    return decided;
  }

  /**
   * For an array element that admission does not offer yet because of its array's parallelism
   * (libs/db admission-snapshot, `pendingJobs`), what it waits for; undefined otherwise.
   */
  private async arrayParallelism(
    tenantId: string,
    job: { arrayId: string | null; arrayIndex: number | null },
  ): Promise<string | undefined> {
    if (job.arrayId === null || job.arrayIndex === null) return undefined;
    const array = await this.prisma.jobArray.findFirst({ where: { id: job.arrayId, tenantId } });
    if (!array || array.parallelism === null) return undefined;
    const finished = array.succeeded + array.failed + array.cancelled;
    if (job.arrayIndex < finished + array.parallelism) return undefined;
    const more = job.arrayIndex - (finished + array.parallelism) + 1;
    return `element ${job.arrayIndex} of array ${array.id} waits for its parallelism: at most ${array.parallelism} of its elements are admitted or running at once; ${more} more must finish before it is offered to admission`;
  }

  /** The answer, with the job's last preemption (who preempted it and why) when it had one. */
  async explain(tenantId: string, id: string): Promise<ExplainView> {
    const job = await this.jobs.get(tenantId, id);
    const explained = await this.explainJob(tenantId, job);
    const view = job.restarts > 0 ? { ...explained, restarts: restartsOf(job) } : explained;
    if (job.preemptions === 0) return view;
    const last = await this.jobs.lastPreemption(tenantId, id);
    if (!last) return view;
    return {
      ...view,
      last_preemption: { at: last.at.toISOString(), message: last.message ?? 'preempted' },
    };
  }

  private async explainJob(tenantId: string, job: JobRow): Promise<ExplainView> {
    const base = { job_id: job.id, status: job.status, phase: job.phase };
    if (job.status !== 'pending' || job.admittedAt !== null) {
      const state = job.status === 'pending' ? 'admitted and starting' : job.status;
      return {
        ...base,
        pending: false,
        summary: `the job is not waiting for admission: it is ${state} (${job.phase})`,
      };
    }
    // Admission never sees a job its dependencies hold: say which one it waits for.
    const waiting = await this.dependencies.explain(tenantId, job);
    if (waiting) return { ...base, pending: true, summary: waiting };
    if (this.config.ROAM_ADMISSION === 'kueue') {
      const tenant = await this.prisma.tenant.findUniqueOrThrow({ where: { id: tenantId } });
      return this.kueue.explain(base, job, tenant.namespace);
    }
    const asked = new Date();
    let decided = await this.decided();
    // A job queued (or due to retry) just before or after the shared decision may be missing
    // from it: ask for one taken after this question. Older absences are real (tenant not
    // ready, retry backoff) and cost no extra decision.
    const queuedAt =
      job.retryAt !== null && job.retryAt > job.createdAt ? job.retryAt : job.createdAt;
    const missing = !decided.snapshot.pending.some((p) => p.id === job.id);
    if (missing && queuedAt.getTime() >= decided.snapshot.now.getTime() - QUEUED_SLACK_MS)
      decided = await this.decided(asked);
    const explanation = explainDecision(decided.snapshot, decided.decision, job.id);
    const decidedAt = decided.snapshot.now.toISOString();
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
      const parallelism = await this.arrayParallelism(tenantId, job);
      if (parallelism)
        return { ...base, pending: true, decided_at: decidedAt, summary: parallelism };
      const standing = await queueStanding(this.prisma, tenantId, job.id);
      return {
        ...base,
        pending: true,
        decided_at: decidedAt,
        summary:
          standing && standing.tenantReady
            ? `number ${standing.position} of ${standing.waiting} in tenant ${tenantId}'s queue, deeper than the jobs an admission cycle considers per tenant: it moves up as the ${standing.position - 1} ahead of it are admitted`
            : `tenant ${tenantId} is not ready yet (its namespace is being provisioned)`,
      };
    }
    // The scheduler found the capacity gone, not busy (docs/scheduling.md#capacity-loss), and
    // wrote what went, and by which failover action, on the job: say that while the answer agrees.
    const unavailable =
      explanation.reason === 'InsufficientCapacity' &&
      job.reason === 'CapacityUnavailable' &&
      job.message !== null;
    return {
      ...base,
      pending: true,
      decided_at: decidedAt,
      summary: unavailable ? `capacity unavailable: ${job.message}` : explanation.summary,
      admitted: explanation.admitted,
      ...(explanation.node ? { node: explanation.node } : {}),
      ...(unavailable
        ? { reason: 'CapacityUnavailable' as const }
        : explanation.reason
          ? { reason: explanation.reason }
          : {}),
      ...(explanation.blocker ? { blocker: explanation.blocker } : {}),
      ...(explanation.position ? { position: explanation.position } : {}),
      unblock: explanation.unblock,
    };
  }
}
