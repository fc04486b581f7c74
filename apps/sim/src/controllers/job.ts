// batch/v1 Job controller: creates pods from the template up to parallelism/completions,
// counts finished pods through the job-tracking finalizer (so a deleted pod still counts),
// and finishes the Job as Complete or Failed (BackoffLimitExceeded, DeadlineExceeded).
import type { Condition, Job, JobSpec, JobStatus, Pod } from '../api/models.js';
import type { KubeObject, Registry } from '../api/registry.js';
import type { ResourceService } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { cloneJson } from '../store/json-equal.js';
import type { Store, StoredEvent } from '../store/store.js';
import {
  type Clock,
  EventRecorder,
  nowIso,
  nsName,
  ownerRef,
  setCondition,
  splitKey,
  WorkQueue,
} from './runtime.js';

export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

function hasCondition(obj: KubeObject, type: string): boolean {
  return ((obj as Job).status?.conditions ?? []).some(
    (c) => c.type === type && c.status === 'True',
  );
}

export function isJobFinished(job: KubeObject): boolean {
  return hasCondition(job, 'Complete') || hasCondition(job, 'Failed');
}

function formatIndexes(indexes: number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j += 1;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function parseIndexes(s: string | undefined): number[] {
  if (!s) return [];
  return s.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    if (b === undefined) return [a!];
    return Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

export class JobController {
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly timers = new Map<string, () => void>();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly resources: ResourceService,
    private readonly clock: Clock,
  ) {
    this.queue = new WorkQueue((key) => this.reconcile(key));
    this.events = new EventRecorder(store, 'job-controller');
  }

  start(): void {
    this.store.onChange((key, ev) => {
      if (key === 'jobs.batch') this.queue.add(nsName(ev.object));
      else if (key === 'pods') this.onPod(ev);
    });
    for (const job of this.store.list('jobs.batch')) this.queue.add(nsName(job));
  }

  private onPod(ev: StoredEvent): void {
    const pod = ev.object;
    const owner = (pod.metadata.ownerReferences ?? []).find(
      (o) => o.controller && o.kind === 'Job',
    );
    if (!owner) return;
    const job = this.store.get<Job>('jobs.batch', pod.metadata.namespace, owner.name);
    if ((!job || job.metadata.uid !== owner.uid) && ev.type !== 'DELETED') {
      // An orphan (its Job is gone) must not be held forever by the tracking finalizer.
      if ((pod.metadata.finalizers ?? []).includes(TRACKING_FINALIZER))
        setImmediate(() => this.releasePod(pod));
      return;
    }
    this.queue.add(`${pod.metadata.namespace}/${owner.name}`);
  }

  private releasePod(pod: KubeObject): void {
    this.store.mutate<Pod>('pods', pod.metadata.namespace, pod.metadata.name ?? '', (p) => {
      if (p.metadata.uid !== pod.metadata.uid) return false;
      p.metadata.finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== TRACKING_FINALIZER);
    });
  }

  private podsOf(job: KubeObject): Pod[] {
    return this.store
      .dependentsOf(job.metadata.uid ?? '')
      .filter((d) => d.key === 'pods')
      .map((d) => this.store.get<Pod>('pods', d.namespace, d.name))
      .filter((p): p is Pod => p !== undefined)
      .filter((p) =>
        (p.metadata.ownerReferences ?? []).some((o) => o.uid === job.metadata.uid && o.controller),
      ); // as the real controller: only pods it controls (not e.g. an offload's virtual pod)
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const job = this.store.get<Job>('jobs.batch', ns, name);
    if (!job?.spec) {
      this.timers.get(key)?.();
      this.timers.delete(key);
      return;
    }
    const pods = this.podsOf(job);
    const spec = job.spec;
    const indexed = spec.completionMode === 'Indexed';
    const status: JobStatus & { succeeded: number; failed: number } = {
      ...cloneJson(job.status ?? {}),
      succeeded: job.status?.succeeded ?? 0,
      failed: job.status?.failed ?? 0,
    };
    const completed = new Set(parseIndexes(status.completedIndexes));
    // Count finished (or deleted) pods exactly once, then release their finalizer.
    for (const pod of pods) {
      if (!(pod.metadata.finalizers ?? []).includes(TRACKING_FINALIZER)) continue;
      if (isJobFinished(job)) {
        this.releasePod(pod);
        continue;
      }
      const phase = pod.status?.phase;
      const deleting = !!pod.metadata.deletionTimestamp;
      if (phase === 'Succeeded') {
        status.succeeded += 1;
        const idx = pod.metadata.annotations?.[INDEX_ANNOTATION];
        if (indexed && idx !== undefined) completed.add(Number(idx));
      } else if (phase === 'Failed' || deleting) {
        // A pod deleted because the Job was suspended is no failure (KEP-2232): Kueue's
        // preemption suspends Jobs and resumes them later with their backoff intact.
        if (!(deleting && spec.suspend)) status.failed += 1;
      } else continue;
      this.releasePod(pod);
    }
    if (indexed) status.completedIndexes = formatIndexes([...completed]);
    if (indexed && !status.completedIndexes) delete status.completedIndexes;
    const active = pods.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        p.status?.phase !== 'Succeeded' &&
        p.status?.phase !== 'Failed',
    );
    const now = nowIso();
    const finished = isJobFinished(job);
    const deleteActive = () => {
      for (const p of active) this.deletePod(p);
    };

    if (!finished) {
      if (spec.suspend) {
        deleteActive();
        status.conditions = setCondition(status.conditions, {
          type: 'Suspended',
          status: 'True',
          reason: 'JobSuspended',
          message: 'Job suspended',
        });
        status.active = 0;
        delete status.startTime;
      } else {
        if (hasCondition(job, 'Suspended'))
          status.conditions = setCondition(status.conditions, {
            type: 'Suspended',
            status: 'False',
            reason: 'JobResumed',
            message: 'Job resumed',
          });
        status.startTime ??= now;
        const restarts =
          spec.template.spec.restartPolicy === 'OnFailure'
            ? active.reduce(
                (n, p) =>
                  n +
                  (p.status?.containerStatuses ?? []).reduce(
                    (m, c) => m + (c.restartCount ?? 0),
                    0,
                  ),
                0,
              )
            : 0;
        const deadline = spec.activeDeadlineSeconds;
        const elapsed = (Date.now() - Date.parse(status.startTime)) / 1000;
        const completions = spec.completions ?? undefined;
        const backoffLimit = spec.backoffLimit ?? 6;
        const parallelism = spec.parallelism ?? 1;
        const doneCount = indexed ? completed.size : status.succeeded;
        if (status.failed + restarts > backoffLimit) {
          this.fail(
            job,
            status,
            'BackoffLimitExceeded',
            'Job has reached the specified backoff limit',
          );
          deleteActive();
        } else if (
          deadline !== undefined &&
          deadline !== null &&
          elapsed * this.clock.speed >= deadline
        ) {
          this.fail(
            job,
            status,
            'DeadlineExceeded',
            'Job was active longer than specified deadline',
          );
          deleteActive();
        } else if (
          (completions !== undefined && doneCount >= completions) ||
          (completions === undefined && status.succeeded > 0 && active.length === 0)
        ) {
          status.conditions = setCondition(status.conditions, {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
          });
          status.conditions = setCondition(status.conditions, {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
          });
          status.completionTime = now;
          deleteActive();
          this.events.record(job, 'Normal', 'Completed', 'Job completed');
        } else {
          const want =
            completions !== undefined
              ? Math.min(parallelism, completions - doneCount)
              : status.succeeded > 0
                ? 0
                : parallelism;
          const missing = want - active.length;
          if (missing > 0) this.createPods({ ...job, spec }, missing, indexed, completed, active);
          if (deadline !== undefined && deadline !== null && !this.timers.has(key)) {
            this.timers.set(
              key,
              this.clock.after(Math.max(0, deadline - elapsed * this.clock.speed) + 0.01, () => {
                this.timers.delete(key);
                this.queue.add(key);
              }),
            );
          }
        }
      }
    }
    const nowActive = this.podsOf(job).filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        p.status?.phase !== 'Succeeded' &&
        p.status?.phase !== 'Failed',
    );
    status.active = isJobFinished({ ...job, status }) || spec.suspend ? 0 : nowActive.length;
    status.ready = nowActive.filter((p) =>
      (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    status.terminating = 0;
    status.uncountedTerminatedPods ??= {};
    if (JSON.stringify(status) !== JSON.stringify(job.status)) {
      this.store.mutate<Job>('jobs.batch', ns, name, (j) => {
        j.status = status;
      });
    }
    const latest = this.store.get<Job>('jobs.batch', ns, name);
    if (latest && isJobFinished(latest)) this.scheduleTtl(latest, key);
  }

  private fail(
    job: KubeObject,
    status: { conditions?: Condition[] },
    reason: string,
    message: string,
  ): void {
    status.conditions = setCondition(status.conditions, {
      type: 'FailureTarget',
      status: 'True',
      reason,
      message,
    });
    status.conditions = setCondition(status.conditions, {
      type: 'Failed',
      status: 'True',
      reason,
      message,
    });
    this.events.record(job, 'Warning', reason, message);
  }

  private scheduleTtl(job: Job, key: string): void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || this.timers.has(`ttl:${key}`)) return;
    const finishedAt = Date.parse(
      job.status?.completionTime ??
        (job.status?.conditions ?? []).find((c) => c.type === 'Failed')?.lastTransitionTime ??
        nowIso(),
    );
    const elapsedSim = ((Date.now() - finishedAt) / 1000) * this.clock.speed;
    const uid = job.metadata.uid;
    this.timers.set(
      `ttl:${key}`,
      this.clock.after(Math.max(0, ttl - elapsedSim), () => {
        this.timers.delete(`ttl:${key}`);
        const cur = this.store.get('jobs.batch', job.metadata.namespace, job.metadata.name ?? '');
        if (!cur || cur.metadata.uid !== uid) return;
        try {
          this.resources.delete(
            this.registry.get('jobs.batch'),
            job.metadata.namespace,
            job.metadata.name ?? '',
            { propagationPolicy: 'Background' },
          );
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }),
    );
  }

  private deletePod(pod: KubeObject): void {
    try {
      this.store.delete('pods', pod.metadata.namespace, pod.metadata.name ?? '');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  private createPods(
    job: Job & { spec: JobSpec },
    count: number,
    indexed: boolean,
    completed: Set<number>,
    active: Pod[],
  ): void {
    const tpl = job.spec.template;
    const busy = new Set(active.map((p) => Number(p.metadata.annotations?.[INDEX_ANNOTATION])));
    const free: number[] = [];
    if (indexed) {
      for (let i = 0; i < (job.spec.completions ?? 0) && free.length < count; i += 1)
        if (!completed.has(i) && !busy.has(i)) free.push(i);
    }
    for (let n = 0; n < count; n += 1) {
      const index = indexed ? free[n] : undefined;
      if (indexed && index === undefined) return;
      const labels = { ...(tpl.metadata?.labels ?? {}) };
      const annotations = { ...(tpl.metadata?.annotations ?? {}) };
      if (index !== undefined) {
        labels[INDEX_ANNOTATION] = String(index);
        annotations[INDEX_ANNOTATION] = String(index);
      }
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${job.metadata.name}-${index !== undefined ? `${index}-` : ''}`,
          namespace: job.metadata.namespace,
          labels,
          annotations,
          ownerReferences: [ownerRef(job, 'batch/v1')],
          finalizers: [TRACKING_FINALIZER],
        },
        spec: cloneJson(tpl.spec),
      };
      // As the Job controller does: each container of an indexed pod reads its index.
      if (index !== undefined && pod.spec)
        for (const c of pod.spec.containers ?? [])
          c.env = [
            ...(c.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'),
            {
              name: 'JOB_COMPLETION_INDEX',
              valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_ANNOTATION}']` } },
            },
          ];
      if (index !== undefined && pod.spec?.subdomain && !pod.spec.hostname)
        pod.spec.hostname = `${job.metadata.name}-${index}`;
      try {
        const created = this.resources.create(
          this.registry.get('pods'),
          job.metadata.namespace,
          pod,
        );
        this.events.record(
          job,
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${created.metadata.name}`,
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.events.record(job, 'Warning', 'FailedCreate', `Error creating: ${message}`);
        // Quota may free up later: retry on the clock, like the controller's rate-limited requeue.
        const key = nsName(job);
        if (!this.timers.has(`retry:${key}`)) {
          this.timers.set(
            `retry:${key}`,
            this.clock.after(1, () => {
              this.timers.delete(`retry:${key}`);
              this.queue.add(key);
            }),
          );
        }
        return;
      }
    }
  }

  close(): void {
    this.queue.close();
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }
}
