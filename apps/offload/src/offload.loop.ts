import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { offloadTriggers, type PendingCandidate } from '@roam/domain';
import {
  type Informer,
  Kube,
  NOT_MANAGED_BY_ROAM,
  type ObjectCache,
  OFFLOADED_BY_ROAM,
  OFFLOADED_LABEL,
  ROAM_LABELS,
} from '@roam/kube';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import type { RunPod } from '@roam/runpod';
import type { Logger } from 'pino';

import { isFinished, type KubeJob, POD_NAME_PREFIX, RUNPOD as ANN } from './kube-objects.js';
import type { OffloadConfig } from './offload.config.js';
import { OffloadRepository, type RoamCandidate } from './offload.repository.js';
import { OffloadService, type OffloadTarget } from './offload.service.js';
import { roamJob } from './roam-job.js';
import { RUNPOD } from './runpod.provider.js';

type Job = KubeJob & { apiVersion?: string; kind?: string };
/** Admission found every node that could take it cordoned or NotReady (docs/scheduling.md#capacity-loss). */
const capacityGone = (c: RoamCandidate): boolean => c.reason === 'CapacityUnavailable';
const NOT_OFFLOADED = '; not offloaded: ';
/** What admission said went (the note of an earlier pass that could not offload it cut off). */
const capacityLoss = (c: RoamCandidate): string =>
  (c.message ?? 'no usable node can take it').split(NOT_OFFLOADED)[0]!;

const keyOf = (job: Job) => `${job.metadata?.namespace}/${job.metadata?.name}`;

/**
 * The level-triggered loop (docs/architecture.md#rule-3): every RECONCILE_INTERVAL_MS, and soon after a
 * Job changes, it repairs interrupted creates, follows running offloads, terminates pods whose
 * Job is gone, offloads what the RunPod controller's rules pick, and sweeps RunPod for orphans.
 * One pass at a time; a failed pass is logged and retried after a backoff, from observed state
 * again.
 */
@Injectable()
export class OffloadLoop implements OnApplicationBootstrap, OnModuleDestroy {
  /**
   * The Jobs a pass acts on, from two informers: Jobs roam does not manage (any may carry the
   * RunPod controller's annotations, which no selector can pick) and roam's offloaded Jobs
   * (`OFFLOADED_LABEL`). roam's other Jobs, the bulk of a burst, never reach this worker.
   */
  private informers: (Informer<Job> & ObjectCache<Job>)[] = [];
  private synced = false;
  private readonly loop: Loop;
  /** The Jobs of the offloads the last pass followed (`namespace/name`). */
  private followed = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: OffloadConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RUNPOD) private readonly runpod: RunPod,
    private readonly kube: Kube,
    private readonly repo: OffloadRepository,
    private readonly service: OffloadService,
  ) {
    this.loop = new Loop({
      name: 'offload pass',
      intervalMs: config.RECONCILE_INTERVAL_MS,
      runAtStart: true,
      failureLevel: 'error',
      logger,
      pass: () => this.pass(),
    });
  }

  isSynced(): boolean {
    return this.synced;
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.informers = [NOT_MANAGED_BY_ROAM, OFFLOADED_BY_ROAM].map((selector) =>
      this.kube.informer<Job>('/apis/batch/v1/jobs', 'batch/v1', 'Job', {
        labelSelector: selector,
      }),
    );
    for (const informer of this.informers) {
      for (const event of ['add', 'update', 'delete'] as const)
        informer.on(event, (job: Job) => {
          if (this.concernsOffload(job)) this.kick();
        });
      informer.on('error', (error: unknown) =>
        this.logger.warn({ err: error }, 'Job informer error; it re-lists'),
      );
    }
    await Promise.all(this.informers.map((informer) => informer.start()));
    this.synced = true;
    // Events of the first list, before this, are covered by the pass the start runs.
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  /**
   * Whether a change of this Job is one a pass acts on: a Job carrying the RunPod controller's
   * annotations (one to offload, or one roam offloaded), or the Job of an offload being
   * followed (deleted: its pod is terminated). Every other Job, the bulk of what roam runs,
   * waits for the timer: a pass per Job event cost the offload worker ~1.5 ms of CPU per job
   * in a burst (docs/architecture.md#rule-3).
   */
  private concernsOffload(job: Job): boolean {
    const annotations = job.metadata?.annotations;
    if (annotations && Object.keys(annotations).some((key) => key.startsWith('runpod.io/')))
      return true;
    return this.followed.has(keyOf(job));
  }

  /** Runs a pass now, or right after the one in progress. */
  kick(): void {
    this.loop.wake();
  }

  private async pass(): Promise<void> {
    const now = new Date();
    const jobs = new Map(
      this.informers.flatMap((informer) => informer.list()).map((j) => [keyOf(j), j]),
    );
    const rows = await this.repo.active();
    this.followed = new Set(rows.map((row) => `${row.kubeNamespace}/${row.kubeJobName}`));
    // A Job whose read failed is neither followed nor taken for gone this pass; the rest go on.
    const unknown = new Set<string>();
    for (const row of rows) {
      await this.lookUpUnwatched(row, jobs).catch((error: unknown) => {
        unknown.add(`${row.kubeNamespace}/${row.kubeJobName}`);
        this.logger.warn(
          { err: error, offloadId: row.id },
          'could not read the Job of an offload; retried next pass',
        );
      });
    }
    const tagged = await this.runpod.listPods(POD_NAME_PREFIX);
    const byTag = new Map<string, typeof tagged>();
    for (const pod of tagged) {
      const tag = pod.name.slice(POD_NAME_PREFIX.length);
      byTag.set(tag, [...(byTag.get(tag) ?? []), pod]);
    }
    for (const row of rows) {
      if (unknown.has(`${row.kubeNamespace}/${row.kubeJobName}`)) continue;
      const job = jobs.get(`${row.kubeNamespace}/${row.kubeJobName}`);
      const step = async () => {
        if (row.state === 'creating') {
          if (now.getTime() - row.createdAt.getTime() >= this.config.OFFLOAD_CREATE_GRACE_MS)
            await this.service.repair(
              row,
              byTag.get(row.id) ?? [],
              !!job && !job.metadata?.deletionTimestamp,
            );
        } else if (!job || job.metadata?.deletionTimestamp)
          await this.service.terminate(row, 'its Job was deleted');
        else await this.service.follow(row);
      };
      await step().catch((error: unknown) =>
        this.logger.warn(
          { err: error, offloadId: row.id },
          'offload step failed; retried next pass',
        ),
      );
    }
    await this.sweepOrphans(tagged, now);
    await this.offloadKubeJobs([...jobs.values()], rows, now);
    if (this.config.OFFLOAD_ROAM_JOBS) await this.offloadRoamJobs(now);
  }

  /**
   * The Job of an offload the informers do not hold: not made yet, gone, not seen yet, or one of
   * roam's without `OFFLOADED_LABEL` (adopted, or offloaded by a version that did not label it).
   * One read says which; a roam Job found gets the label, so the informer holds it from then on.
   * A failed read throws (the caller skips that offload this pass): a Job not known to be gone
   * is never taken for gone. A failed label patch is only logged: the next pass patches again.
   */
  private async lookUpUnwatched(
    row: { id: string; kubeNamespace: string; kubeJobName: string },
    jobs: Map<string, Job>,
  ): Promise<void> {
    const key = `${row.kubeNamespace}/${row.kubeJobName}`;
    if (jobs.has(key)) return;
    const ref = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: row.kubeNamespace,
      name: row.kubeJobName,
    };
    const job = await this.kube.get<Job>(ref);
    if (!job) return;
    jobs.set(key, job);
    const labels = job.metadata?.labels ?? {};
    if (labels[ROAM_LABELS.managedBy] === 'roam' && labels[OFFLOADED_LABEL] !== 'true')
      await this.kube
        .mergePatch(ref, {
          metadata: {
            name: ref.name,
            namespace: ref.namespace,
            labels: { [OFFLOADED_LABEL]: 'true' },
          },
        })
        .catch((error: unknown) =>
          this.logger.warn(
            { err: error, offloadId: row.id },
            'could not label the Job of an offload; tried again next pass',
          ),
        );
  }

  /** Tagged RunPod pods with no Offload row: a roam worker made them and nobody will follow them. */
  private async sweepOrphans(
    tagged: Awaited<ReturnType<RunPod['listPods']>>,
    now: Date,
  ): Promise<void> {
    const ids = tagged
      .map((p) => p.name.slice(POD_NAME_PREFIX.length))
      .filter((id) => /^[0-9a-f-]{36}$/.test(id));
    const known = new Map((await this.repo.byIds(ids)).map((r) => [r.id, r]));
    for (const pod of tagged) {
      const row = known.get(pod.name.slice(POD_NAME_PREFIX.length));
      const age = now.getTime() - Date.parse(pod.lastStartedAt ?? now.toISOString());
      // A row that ended (or never was) means nobody follows this pod; give a fresh create its grace.
      const orphan =
        (!row && age >= this.config.OFFLOAD_CREATE_GRACE_MS) ||
        (row && row.state !== 'creating' && row.state !== 'running') ||
        (row?.runpodPodId && row.runpodPodId !== pod.id);
      if (!orphan || pod.desiredStatus === 'TERMINATED') continue;
      this.logger.warn({ podId: pod.id, name: pod.name }, 'terminating an orphaned RunPod pod');
      await this.runpod
        .terminatePod(pod.id)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, podId: pod.id }, 'orphan terminate failed'),
        );
    }
  }

  /** Any Job annotated `runpod.io/managed` (kubectl-applied too); roam's come from Postgres. */
  private async offloadKubeJobs(
    jobs: Job[],
    rows: { kubeNamespace: string; kubeJobName: string }[],
    now: Date,
  ): Promise<void> {
    const taken = new Set(rows.map((r) => `${r.kubeNamespace}/${r.kubeJobName}`));
    const pending = jobs.filter((job) => {
      const a = job.metadata?.annotations ?? {};
      return (
        a[ANN.managed] === 'true' &&
        !a[ANN.podId] &&
        job.metadata?.labels?.[ROAM_LABELS.managedBy] !== 'roam' &&
        !job.metadata?.deletionTimestamp &&
        !job.spec?.suspend &&
        !isFinished(job) &&
        !(job.status?.ready ?? 0) &&
        !(job.status?.succeeded ?? 0) &&
        !taken.has(keyOf(job))
      );
    });
    const candidates: PendingCandidate[] = pending.map((job) => ({
      key: keyOf(job),
      forced: job.metadata?.annotations?.[ANN.offload] === 'true',
      pendingSince: new Date(job.metadata?.creationTimestamp ?? now),
    }));
    const byKey = new Map(pending.map((j) => [keyOf(j), j]));
    for (const trigger of offloadTriggers(candidates, this.policy(), now)) {
      const job = byKey.get(trigger.key)!;
      if (await this.repo.known(job.metadata?.namespace ?? '', job.metadata?.name ?? '')) continue;
      await this.offloadOne({ job, why: trigger.why });
    }
  }

  /**
   * Roam jobs the rules pick. Those that cannot go (budget spent, no GPU under the policy) get
   * their reason in one statement for the whole pass, not a write each.
   */
  private async offloadRoamJobs(now: Date): Promise<void> {
    const delay = this.config.KUEUE_OFFLOAD_AFTER_SECONDS;
    const candidates = await this.repo.roamCandidates(200, delay);
    const byId = new Map(candidates.map((c) => [c.id, c]));
    const triggers = offloadTriggers(
      candidates.map((c) => ({
        key: c.id,
        // Capacity gone (a cordoned pool, NotReady nodes), not busy: no reason to wait for it.
        forced: c.spec.offload === 'required' || c.waitingInKueue || capacityGone(c),
        pendingSince: c.createdAt,
      })),
      this.policy(),
      now,
    ).map((t) => {
      const c = byId.get(t.key)!;
      if (c.spec.offload === 'required') return t;
      if (capacityGone(c)) return { ...t, why: capacityLoss(c) };
      return c.waitingInKueue
        ? { ...t, why: `Kueue has not admitted it in ${delay} s (KUEUE_OFFLOAD_AFTER_SECONDS)` }
        : t;
    });
    const notes: { jobId: string; seq: number; message: string }[] = [];
    for (const trigger of triggers) {
      const c = byId.get(trigger.key)!;
      if (c.budgetMicros !== null && c.spendMicros >= c.budgetMicros) {
        notes.push({
          jobId: c.id,
          seq: c.seq,
          message: `not offloaded: tenant ${c.tenantId} has spent its offload budget ($${Number(c.spendMicros) / 1e6} of $${Number(c.budgetMicros) / 1e6})`,
        });
        continue;
      }
      const job = roamJob({
        id: c.id,
        tenantId: c.tenantId,
        namespace: c.namespace,
        name: c.name,
        attempt: c.attempt,
        spec: c.spec,
      });
      const target: OffloadTarget = {
        job,
        roam: { jobId: c.id, tenantId: c.tenantId, seq: c.seq, name: c.name, attempt: c.attempt },
        why: trigger.why,
      };
      const why = await this.offloadOne(target);
      // A job whose capacity is gone keeps saying what went, then why RunPod did not take it.
      if (why)
        notes.push({
          jobId: c.id,
          seq: c.seq,
          message: capacityGone(c)
            ? `${capacityLoss(c)}${NOT_OFFLOADED}${why}`
            : `not offloaded: ${why}`,
        });
    }
    await this.repo.noteWaiting(notes);
  }

  private policy() {
    return {
      maxPendingMs: this.config.MAX_PENDING_TIME_SECONDS * 1000,
      pendingThreshold: this.config.PENDING_JOB_THRESHOLD,
    };
  }

  /** Offloads the target; returns why not when the policy finds no GPU for it. */
  private async offloadOne(target: OffloadTarget): Promise<string | undefined> {
    const log = {
      job: target.job.metadata?.name,
      jobId: target.roam?.jobId,
      tenantId: target.roam?.tenantId,
    };
    try {
      const choice = await this.service.choose(target.job, target.roam?.tenantId);
      if (!choice.ok) {
        this.logger.debug({ ...log, why: choice.why }, 'not offloaded');
        await this.service.noteNotOffloaded(target, choice.why);
        return choice.why;
      }
      await this.service.offload(target, choice);
    } catch (error) {
      this.logger.warn({ ...log, err: error }, 'offload failed; retried next pass');
    }
    return undefined;
  }
}
