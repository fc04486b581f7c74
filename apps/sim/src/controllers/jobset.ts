// jobset.x-k8s.io/v1alpha2 JobSet: the type registration (a CRD is one `register` call) and
// its controller. Child Jobs are `<jobset>-<replicatedJob>-<index>`; a failed child Job, or
// the deletion of the leader pod (job-index 0, completion-index 0), restarts the whole set.
import type { Job, JobSet, JobSetSpec, ReplicatedJobStatus } from '../api/models.js';
import type { KubeObject, Registry, ResourceType } from '../api/registry.js';
import type { ResourceService } from '../api/resources.js';
import { ApiError, required, type StatusCause } from '../api/status.js';
import { formatAge } from '../api/builtin-types.js';
import { cloneJson } from '../store/json-equal.js';
import type { Store, StoredEvent } from '../store/store.js';
import { isJobFinished } from './job.js';
import { EventRecorder, nsName, ownerRef, setCondition, splitKey, WorkQueue } from './runtime.js';

export const JOBSET_LABELS = {
  name: 'jobset.sigs.k8s.io/jobset-name',
  replicatedJob: 'jobset.sigs.k8s.io/replicatedjob-name',
  replicas: 'jobset.sigs.k8s.io/replicatedjob-replicas',
  jobIndex: 'jobset.sigs.k8s.io/job-index',
  jobKey: 'jobset.sigs.k8s.io/job-key',
  restartAttempt: 'jobset.sigs.k8s.io/restart-attempt',
} as const;

/**
 * JobSet's exclusive placement (on the JobSet): each child Job's pods go to one value of the
 * node label it names (one node pool), no two child Jobs to the same one. Copied onto the pods,
 * where the scheduler reads it.
 */
export const EXCLUSIVE_TOPOLOGY = 'alpha.jobset.sigs.k8s.io/exclusive-topology';

const cond = (o: KubeObject, type: string) =>
  ((o as JobSet | Job).status?.conditions ?? []).some(
    (c) => c.type === type && c.status === 'True',
  );

function col(
  name: string,
  type: 'string' | 'integer',
  cell: (o: JobSet, now: number) => string | number,
) {
  return { name, type, cell: (o: KubeObject, now: number) => cell(o as JobSet, now) };
}

export const jobSetType: ResourceType = {
  group: 'jobset.x-k8s.io',
  version: 'v1alpha2',
  kind: 'JobSet',
  plural: 'jobsets',
  singular: 'jobset',
  namespaced: true,
  shortNames: ['js'],
  subresources: ['status'],
  columns: [
    col('TerminalState', 'string', (o) => o.status?.terminalState ?? ''),
    col('Restarts', 'integer', (o) => o.status?.restarts ?? 0),
    col('Completed', 'string', (o) => (cond(o, 'Completed') ? 'True' : '')),
    col('Suspended', 'string', (o) => String(!!o.spec?.suspend)),
    col('Age', 'string', (o, now) => formatAge(o.metadata.creationTimestamp, now)),
  ],
  validate: (obj) => {
    const out: StatusCause[] = [];
    const rjs: unknown = (obj.spec as { replicatedJobs?: unknown } | undefined)?.replicatedJobs;
    if (!Array.isArray(rjs) || rjs.length === 0) return [required('spec.replicatedJobs')];
    rjs.forEach((item: unknown, i: number) => {
      const rj = item as Partial<JobSetSpec['replicatedJobs'][number]> | null;
      if (!rj?.name) out.push(required(`spec.replicatedJobs[${i}].name`));
      if (!rj?.template?.spec?.template)
        out.push(required(`spec.replicatedJobs[${i}].template.spec.template`));
    });
    return out;
  },
  defaults: (obj) => {
    const o = obj as JobSet & { spec: JobSetSpec };
    o.spec.failurePolicy ??= { maxRestarts: 0 };
    o.spec.successPolicy ??= { operator: 'All' };
    o.spec.suspend ??= false;
    for (const rj of o.spec.replicatedJobs) rj.replicas ??= 1;
    o.status = { restarts: 0 };
  },
};

export function registerJobSet(registry: Registry): void {
  registry.register(jobSetType);
}

export class JobSetController {
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly resources: ResourceService,
  ) {
    this.queue = new WorkQueue((key) => this.reconcile(key));
    this.events = new EventRecorder(store, 'jobset-controller');
  }

  start(): void {
    this.store.onChange((key, ev) => {
      if (key === 'jobsets.jobset.x-k8s.io') this.queue.add(nsName(ev.object));
      else if (key === 'jobs.batch') {
        const name = ev.object.metadata.labels?.[JOBSET_LABELS.name];
        if (name) this.queue.add(`${ev.object.metadata.namespace}/${name}`);
      } else if (key === 'pods') this.onPod(ev);
    });
    for (const js of this.store.list('jobsets.jobset.x-k8s.io')) this.queue.add(nsName(js));
  }

  private onPod(ev: StoredEvent): void {
    const pod = ev.object;
    const labels = pod.metadata.labels ?? {};
    const name = labels[JOBSET_LABELS.name];
    if (!name) return;
    const leader =
      labels[JOBSET_LABELS.jobIndex] === '0' &&
      (labels['batch.kubernetes.io/job-completion-index'] ?? '0') === '0';
    const deleted =
      ev.type === 'DELETED' ||
      (!!pod.metadata.deletionTimestamp && !ev.old?.metadata.deletionTimestamp);
    if (!leader || !deleted) return;
    const js = this.store.get<JobSet>('jobsets.jobset.x-k8s.io', pod.metadata.namespace, name);
    if (!js || cond(js, 'Completed') || cond(js, 'Failed')) return;
    // A suspended set (Kueue evicted it) loses its pods on purpose: that is no restart.
    if (js.spec?.suspend) return;
    // Only a leader of the current attempt restarts the set; old attempts' pods die anyway.
    if (labels[JOBSET_LABELS.restartAttempt] !== String(js.status?.restarts ?? 0)) return;
    const attempt = js.status?.restarts ?? 0;
    setImmediate(() => this.restart(js, `leader pod ${pod.metadata.name} was deleted`, attempt));
  }

  private childJobs(js: KubeObject): Job[] {
    return this.store
      .dependentsOf(js.metadata.uid ?? '')
      .filter((d) => d.key === 'jobs.batch')
      .map((d) => this.store.get<Job>('jobs.batch', d.namespace, d.name))
      .filter((j): j is Job => j !== undefined);
  }

  /** Restarts attempt `attempt`; a second trigger for the same attempt is a no-op. */
  private restart(js: KubeObject, why: string, attempt: number): void {
    const current = this.store.get<JobSet>(
      'jobsets.jobset.x-k8s.io',
      js.metadata.namespace,
      js.metadata.name ?? '',
    );
    if (!current || current.metadata.uid !== js.metadata.uid) return;
    if ((current.status?.restarts ?? 0) !== attempt) return;
    const jobType = this.registry.get('jobs.batch');
    for (const job of this.childJobs(current)) {
      try {
        this.resources.delete(jobType, job.metadata.namespace, job.metadata.name ?? '', {
          propagationPolicy: 'Background',
        });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    const restarts = (current.status?.restarts ?? 0) + 1;
    this.store.mutate<JobSet>(
      'jobsets.jobset.x-k8s.io',
      js.metadata.namespace,
      js.metadata.name ?? '',
      (o) => {
        o.status = { ...o.status, restarts };
      },
    );
    this.events.record(
      current,
      'Warning',
      'Restarting',
      `restarting JobSet (attempt ${restarts}): ${why}`,
    );
    this.queue.add(nsName(js));
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const js = this.store.get<JobSet>('jobsets.jobset.x-k8s.io', ns, name);
    if (!js?.spec || js.metadata.deletionTimestamp) return;
    const spec = js.spec;
    if (cond(js, 'Completed') || cond(js, 'Failed')) return;
    const attempt = String(js.status?.restarts ?? 0);
    const jobs = this.childJobs(js).filter(
      (j) => j.metadata.labels?.[JOBSET_LABELS.restartAttempt] === attempt,
    );
    const failed = jobs.find((j) => cond(j, 'Failed'));
    if (failed) {
      const max = spec.failurePolicy?.maxRestarts ?? 0;
      if ((js.status?.restarts ?? 0) < max)
        return this.restart(js, `job ${failed.metadata.name} failed`, js.status?.restarts ?? 0);
      return this.finish(
        js,
        'Failed',
        'FailedJobs',
        `job ${failed.metadata.name} failed; restarts exhausted`,
      );
    }
    if (!spec.suspend) this.createMissing(js, spec, jobs, attempt);
    const statuses: ReplicatedJobStatus[] = spec.replicatedJobs.map((rj) => {
      const mine = jobs.filter((j) => j.metadata.labels?.[JOBSET_LABELS.replicatedJob] === rj.name);
      return {
        name: rj.name,
        ready: mine.filter((j) => !isJobFinished(j) && (j.status?.ready ?? 0) > 0).length,
        succeeded: mine.filter((j) => cond(j, 'Complete')).length,
        failed: mine.filter((j) => cond(j, 'Failed')).length,
        active: mine.filter((j) => !isJobFinished(j) && (j.status?.active ?? 0) > 0).length,
        suspended: mine.filter((j) => j.spec?.suspend).length,
      };
    });
    const targets =
      spec.successPolicy?.targetReplicatedJobs ?? spec.replicatedJobs.map((r) => r.name);
    const succeededOf = (rjName: string) => statuses.find((s) => s.name === rjName)?.succeeded ?? 0;
    const done = (rjName: string) =>
      succeededOf(rjName) >= (spec.replicatedJobs.find((r) => r.name === rjName)?.replicas ?? 1);
    const succeeded =
      spec.successPolicy?.operator === 'Any'
        ? targets.some((t) => succeededOf(t) > 0)
        : targets.every(done);
    if (succeeded)
      return this.finish(
        js,
        'Completed',
        'AllJobsCompleted',
        'jobset completed successfully',
        statuses,
      );
    this.store.mutate<JobSet>('jobsets.jobset.x-k8s.io', ns, name, (o) => {
      const status = (o.status = { ...o.status, replicatedJobsStatus: statuses });
      status.conditions = setCondition(
        status.conditions,
        spec.suspend
          ? {
              type: 'Suspended',
              status: 'True',
              reason: 'SuspendedJobs',
              message: 'jobset is suspended',
            }
          : {
              type: 'Suspended',
              status: 'False',
              reason: 'ResumeJobs',
              message: 'jobset is resumed',
            },
      );
    });
    // Propagate suspend to children. A child resumed takes its replicated job's pod template
    // labels, annotations, nodeSelector and tolerations first, as the JobSet controller does:
    // Kueue changes them on the JobSet when it admits it again.
    for (const j of jobs) {
      if (!j.spec || !!j.spec.suspend === !!spec.suspend) continue;
      const rj = spec.replicatedJobs.find(
        (r) => r.name === j.metadata.labels?.[JOBSET_LABELS.replicatedJob],
      );
      this.store.mutate<Job>('jobs.batch', ns, j.metadata.name ?? '', (o) => {
        if (!o.spec) return false;
        o.spec.suspend = !!spec.suspend;
        const from = rj?.template.spec.template;
        if (spec.suspend || !from) return;
        const to = o.spec.template;
        const meta = (to.metadata ??= {});
        meta.labels = { ...meta.labels, ...from.metadata?.labels };
        meta.annotations = { ...meta.annotations, ...from.metadata?.annotations };
        if (from.spec.nodeSelector) to.spec.nodeSelector = { ...from.spec.nodeSelector };
        else delete to.spec.nodeSelector;
        if (from.spec.tolerations) to.spec.tolerations = [...from.spec.tolerations];
        else delete to.spec.tolerations;
      });
    }
  }

  private finish(
    js: KubeObject,
    type: 'Completed' | 'Failed',
    reason: string,
    message: string,
    statuses?: ReplicatedJobStatus[],
  ): void {
    this.store.mutate<JobSet>(
      'jobsets.jobset.x-k8s.io',
      js.metadata.namespace,
      js.metadata.name ?? '',
      (o) => {
        const status = (o.status = {
          ...o.status,
          terminalState: type,
          ...(statuses ? { replicatedJobsStatus: statuses } : {}),
        });
        status.conditions = setCondition(status.conditions, {
          type,
          status: 'True',
          reason,
          message,
        });
      },
    );
    this.events.record(js, type === 'Failed' ? 'Warning' : 'Normal', reason, message);
  }

  private createMissing(js: JobSet, spec: JobSetSpec, jobs: Job[], attempt: string): void {
    const have = new Set(jobs.map((j) => j.metadata.name));
    const jobType = this.registry.get('jobs.batch');
    for (const rj of spec.replicatedJobs) {
      for (let i = 0; i < rj.replicas; i += 1) {
        const jobName = `${js.metadata.name}-${rj.name}-${i}`;
        if (have.has(jobName)) continue;
        const labels = {
          [JOBSET_LABELS.name]: js.metadata.name ?? '',
          [JOBSET_LABELS.replicatedJob]: rj.name,
          [JOBSET_LABELS.replicas]: String(rj.replicas),
          [JOBSET_LABELS.jobIndex]: String(i),
          [JOBSET_LABELS.jobKey]: `${js.metadata.namespace}-${jobName}`,
          [JOBSET_LABELS.restartAttempt]: attempt,
        };
        const tpl = cloneJson(rj.template);
        const podTpl = tpl.spec.template;
        podTpl.metadata = {
          ...(podTpl.metadata ?? {}),
          labels: { ...(podTpl.metadata?.labels ?? {}), ...labels },
          annotations: {
            ...(podTpl.metadata?.annotations ?? {}),
            ...labels,
            ...(js.metadata.annotations?.[EXCLUSIVE_TOPOLOGY]
              ? { [EXCLUSIVE_TOPOLOGY]: js.metadata.annotations[EXCLUSIVE_TOPOLOGY] }
              : {}),
          },
        };
        if (spec.network?.enableDNSHostnames !== false)
          podTpl.spec.subdomain ??= spec.network?.subdomain ?? js.metadata.name;
        const job: Job = {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: {
            name: jobName,
            namespace: js.metadata.namespace,
            labels: { ...(tpl.metadata?.labels ?? {}), ...labels },
            annotations: { ...(tpl.metadata?.annotations ?? {}), ...labels },
            ownerReferences: [ownerRef(js, 'jobset.x-k8s.io/v1alpha2')],
          },
          spec: {
            completionMode: 'Indexed',
            ...tpl.spec,
            completions: tpl.spec.completions ?? tpl.spec.parallelism ?? 1,
            parallelism: tpl.spec.parallelism ?? 1,
            suspend: !!spec.suspend,
          },
        };
        try {
          this.resources.create(jobType, js.metadata.namespace, job);
        } catch (err) {
          if (err instanceof ApiError && err.code === 409) continue;
          this.events.record(
            js,
            'Warning',
            'JobCreationFailed',
            err instanceof Error ? err.message : String(err),
          );
        }
      }
    }
  }

  close(): void {
    this.queue.close();
  }
}
