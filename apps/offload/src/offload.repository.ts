import { Inject, Injectable } from '@nestjs/common';
import type { Envelope, JobSpec } from '@roam/contracts';
import { type LogArchiveRow, Prisma, type PrismaClient, saveLogArchive } from '@roam/db';
import { type JobEvent, type JobState, jobStateOf } from '@roam/domain';
import { type JobColumns, JobLedger, type LedgerJob } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { PRISMA } from '@roam/runtime';

import { SOURCE } from './source.js';

export interface OffloadRow {
  id: string;
  jobId: string | null;
  tenantId: string | null;
  kubeNamespace: string;
  kubeJobName: string;
  runpodPodId: string | null;
  gpuType: string;
  dataCenter: string | null;
  pricePerHourMicros: bigint;
  state: 'creating' | 'running' | 'succeeded' | 'failed' | 'terminated';
  startedAt: Date | null;
  createdAt: Date;
}

/** A roam job waiting in Postgres that may go to RunPod. */
export interface RoamCandidate {
  id: string;
  tenantId: string;
  namespace: string;
  name: string;
  attempt: number;
  seq: number;
  status: JobState['status'];
  phase: string;
  reason: string | null;
  message: string | null;
  spec: JobSpec;
  createdAt: Date;
  /**
   * ROAM_ADMISSION=kueue: its Job waits, suspended, in Kueue, and has waited past the policy
   * delay (KUEUE_OFFLOAD_AFTER_SECONDS): offload it now.
   */
  waitingInKueue: boolean;
  budgetMicros: bigint | null;
  spendMicros: bigint;
}

export const micros = (usd: number): bigint => BigInt(Math.round(usd * 1e6));

/** Offload rows, tenant spend and the roam-job transitions the offload worker makes. */
@Injectable()
export class OffloadRepository {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  private readonly ledger: JobLedger;

  active(): Promise<OffloadRow[]> {
    return this.prisma.offload.findMany({
      where: { state: { in: ['creating', 'running'] } },
    });
  }

  byIds(ids: string[]): Promise<OffloadRow[]> {
    return this.prisma.offload.findMany({ where: { id: { in: ids } } });
  }

  async known(namespace: string, name: string): Promise<boolean> {
    return (
      (await this.prisma.offload.count({
        where: { kubeNamespace: namespace, kubeJobName: name },
      })) > 0
    );
  }

  /**
   * Roam jobs the cluster cannot take that allow offload: `required` at once, `allowed` ones
   * the scheduler set aside for capacity (at once when the capacity is gone,
   * `CapacityUnavailable`, docs/scheduling.md#capacity-loss), and (ROAM_ADMISSION=kueue) `allowed` GPU jobs whose
   * Job has waited in Kueue longer than `kueueDelaySeconds`. Waiting since creation (or since
   * their retry). Never an element of an array being cancelled (its cancel walk ends it), nor
   * a job that wants its dependencies' results (a RunPod run would not get them; the gateway
   * refuses that combination at submit, this keeps rows written before it from slipping out).
   */
  async roamCandidates(limit: number, kueueDelaySeconds: number): Promise<RoamCandidate[]> {
    const rows = await this.prisma.$queryRaw<
      Array<
        Omit<
          RoamCandidate,
          'tenantId' | 'createdAt' | 'waitingInKueue' | 'budgetMicros' | 'spendMicros'
        > & {
          tenant_id: string;
          created_at: Date;
          in_kueue: boolean;
          budget: bigint | null;
          spend: bigint;
        }
      >
    >`
      SELECT j.id, j.tenant_id, t.namespace, j.name, j.attempt, j.seq, j.status::text AS status, j.phase, j.reason, j.message, j.spec,
             COALESCE(j.retry_at, j.created_at) AS created_at, j.placement IS NOT NULL AS in_kueue,
             t.offload_budget_micros AS budget, t.offload_spend_micros AS spend
      FROM jobs j JOIN tenants t ON t.id = j.tenant_id AND t.status = 'ready'
      WHERE j.status = 'pending' AND j.admitted_at IS NULL AND j.phase = 'Queued'
        AND (j.offload_preference = 'required'
             OR (j.offload_preference = 'allowed' AND j.reason IN ('Unschedulable', 'InsufficientCapacity', 'CapacityUnavailable'))
             OR (j.offload_preference = 'allowed' AND j.placement IS NOT NULL
                 AND (j.spec->'resources'->>'gpu')::numeric > 0
                 AND COALESCE(j.retry_at, j.created_at) <= now() - make_interval(secs => ${kueueDelaySeconds})))
        AND NOT EXISTS (SELECT 1 FROM offloads o WHERE o.job_id = j.id AND o.state IN ('creating', 'running'))
        AND (j.array_id IS NULL OR NOT EXISTS (
          SELECT 1 FROM job_arrays a WHERE a.id = j.array_id AND a.cancel_requested_at IS NOT NULL))
        AND (j.spec ->> 'inputs_from_dependencies') IS DISTINCT FROM 'true'
      ORDER BY j.created_at, j.id LIMIT ${limit}`;
    return rows.map((r) => ({
      ...r,
      tenantId: r.tenant_id,
      createdAt: r.created_at,
      waitingInKueue: r.in_kueue,
      budgetMicros: r.budget,
      spendMicros: r.spend,
    }));
  }

  /**
   * Says on waiting jobs why they are not offloaded (no GPU under the cap, budget spent): one
   * statement for a pass's notes, writing only messages that changed, only on jobs still
   * waiting at the seq read (a column, not a state: no ledger entry).
   */
  async noteWaiting(
    notes: readonly { jobId: string; seq: number; message: string }[],
  ): Promise<void> {
    if (notes.length === 0) return;
    await this.prisma.$executeRaw`
      UPDATE jobs j SET message = v.message, updated_at = now()
      FROM (SELECT unnest(${notes.map((n) => n.jobId)}::uuid[]) AS id,
                   unnest(${notes.map((n) => n.seq)}::int[]) AS seq,
                   unnest(${notes.map((n) => n.message)}::text[]) AS message) v
      WHERE j.id = v.id AND j.seq = v.seq AND j.status = 'pending' AND j.admitted_at IS NULL
        AND j.message IS DISTINCT FROM v.message`;
  }

  /**
   * Written BEFORE the RunPod create (crash safety): the row's id is the pod's tag, so a pod
   * created by a worker that died before recording it is found and adopted (or terminated).
   * For a roam job the same transaction claims the job (Running/Offloaded, conditional on the
   * seq read), so the scheduler cannot admit it meanwhile. False when someone else won.
   */
  async reserve(
    row: Omit<OffloadRow, 'runpodPodId' | 'state' | 'startedAt' | 'createdAt'>,
    roam?: { seq: number; name: string; attempt: number; why: string },
  ): Promise<boolean> {
    const events: Envelope[] = [];
    try {
      const reserved = await this.outbox.transaction(async (tx) => {
        if (roam && row.jobId && row.tenantId) {
          const job = await this.jobState(tx, row.jobId);
          if (!job) return { result: false, messages: [] };
          // Guarded by the seq the candidate was read with, not the one just read.
          const claimed = await this.transitionIn(
            tx,
            { ...job, seq: roam.seq },
            { type: 'offload', message: `offloaded to RunPod: ${roam.why}` },
            {
              placement: {
                runpod_pod_id: null,
                gpu_type: row.gpuType,
                price_per_hour: Number(row.pricePerHourMicros) / 1e6,
                data_center: row.dataCenter,
              },
            },
            'lose',
          );
          if (!claimed) return { result: false, messages: [] };
          events.push(...claimed);
        }
        await tx.offload.create({ data: { ...row, state: 'creating' } });
        return { result: true, messages: [] };
      });
      if (reserved) await this.outbox.dispatch(events);
      return reserved;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
        return false;
      throw error;
    }
  }

  async recordCreated(
    id: string,
    podId: string,
    pricePerHourMicros: bigint,
    dataCenter: string | null,
    startedAt: Date,
    jobId: string | null,
    gpuType: string,
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.offload.updateMany({
        where: { id, state: 'creating' },
        data: { runpodPodId: podId, state: 'running', pricePerHourMicros, dataCenter, startedAt },
      });
      if (jobId)
        await tx.job.updateMany({
          where: { id: jobId, status: 'running', reason: 'Offloaded' },
          data: {
            startedAt,
            placement: {
              runpod_pod_id: podId,
              gpu_type: gpuType,
              price_per_hour: Number(pricePerHourMicros) / 1e6,
              data_center: dataCenter,
            },
          },
        });
    });
  }

  /** Nothing was created (RunPod refused, or a repaired reservation found no pod): free the pair. */
  async release(row: OffloadRow, why: string): Promise<void> {
    const events: Envelope[] = [];
    await this.prisma.$transaction(async (tx) => {
      await tx.offload.deleteMany({ where: { id: row.id, state: 'creating' } });
      if (!row.jobId) return;
      const job = await this.jobState(tx, row.jobId);
      // Back to the queue: the scheduler or a later offload (maybe another GPU type) takes it.
      if (job?.state.reason !== 'Offloaded') return;
      const retried = await this.transitionIn(
        tx,
        job,
        { type: 'retry', message: `offload failed: ${why}` },
        { retryAt: new Date(Date.now() + 5_000), startedAt: null },
      );
      if (retried) events.push(...retried);
    });
    await this.outbox.dispatch(events);
  }

  /** The RunPod pod ended (or vanished): cost, tenant spend, and the roam job's outcome. */
  async finish(
    row: OffloadRow,
    end: {
      state: 'succeeded' | 'failed' | 'terminated';
      exitCode: number | null;
      endedAt: Date;
      costMicros: bigint;
      message: string;
    },
  ): Promise<boolean> {
    const events: Envelope[] = [];
    const finished = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.offload.updateMany({
        where: { id: row.id, state: { in: ['creating', 'running'] } },
        data: {
          state: end.state,
          exitCode: end.exitCode,
          endedAt: end.endedAt,
          costMicros: end.costMicros,
        },
      });
      if (count !== 1) return false;
      if (row.tenantId && end.costMicros > 0n)
        await tx.tenant.updateMany({
          where: { id: row.tenantId },
          data: { offloadSpendMicros: { increment: end.costMicros } },
        });
      if (row.jobId && end.state !== 'terminated') {
        const job = await this.jobState(tx, row.jobId);
        const event: JobEvent =
          end.state === 'succeeded'
            ? { type: 'succeed', message: end.message }
            : { type: 'fail', reason: 'Error', message: end.message };
        const done = job
          ? await this.transitionIn(tx, job, event, {
              finishedAt: end.endedAt,
              exitCode: end.exitCode,
            })
          : undefined;
        if (done) events.push(...done);
      }
      return true;
    });
    await this.outbox.dispatch(events);
    return finished;
  }

  /** The job as the ledger needs it, read in the caller's transaction. */
  private async jobState(tx: Prisma.TransactionClient, id: string): Promise<LedgerJob | undefined> {
    const job = await tx.job.findUnique({
      where: { id },
      select: {
        id: true,
        tenantId: true,
        seq: true,
        name: true,
        attempt: true,
        status: true,
        phase: true,
        reason: true,
        message: true,
        placement: true,
      },
    });
    if (!job) return undefined;
    return {
      id: job.id,
      tenantId: job.tenantId,
      name: job.name,
      attempt: job.attempt,
      seq: job.seq,
      state: jobStateOf(job),
      placement: job.placement as Record<string, unknown> | null,
    };
  }

  /**
   * One domain transition through the ledger; the envelopes to dispatch after commit. A stale
   * job (changed since it was read, or by a younger transaction) is a lost race for a claim
   * (`onStale: 'lose'`); for an outcome it throws, so the whole transaction rolls back and the
   * next pass records the outcome again instead of leaving the job behind its offload.
   */
  private async transitionIn(
    tx: Prisma.TransactionClient,
    job: LedgerJob,
    event: JobEvent,
    set: JobColumns,
    onStale: 'lose' | 'retry' = 'retry',
  ): Promise<Envelope[] | undefined> {
    const result = await this.ledger.apply(tx, [{ job, events: [event], set }]);
    if (result.stale.length > 0 && onStale === 'retry')
      throw new Error(`job ${job.id} changed under this transaction; retried next pass`);
    return result.written.length === 1 ? result.envelopes : undefined;
  }

  /** The key of a roam job's input archive, if it has one. */
  async inputsKeyOf(jobId: string): Promise<string | undefined> {
    const job = await this.prisma.job.findUnique({
      where: { id: jobId },
      select: { inputsKey: true },
    });
    return job?.inputsKey ?? undefined;
  }

  async attemptOf(jobId: string): Promise<number | undefined> {
    const job = await this.prisma.job.findUnique({
      where: { id: jobId },
      select: { attempt: true },
    });
    return job?.attempt;
  }

  saveLogArchive(row: LogArchiveRow): Promise<void> {
    return saveLogArchive(this.prisma, row);
  }
}
