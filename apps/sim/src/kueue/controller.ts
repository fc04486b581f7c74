// A Kueue-like controller: a batch/v1 Job or a jobset.x-k8s.io JobSet labelled
// `kueue.x-k8s.io/queue-name` (suspended at create by the webhook below) gets a Workload it
// owns, with a pod set per group of pods (integrations.ts); a scheduling pass reserves quota for
// pending Workloads (queueing.ts), all of their pods or none, writes QuotaReserved and
// Admitted, and unsuspends the owner; the Workload is Finished when its owner ends, which
// releases its quota. Deleting the owner deletes the Workload (ownerReference). Below, "the
// Job" is either kind. A workload that does not fit may preempt others, as
// its ClusterQueue's `preemption` allows (queueing.ts): they are Evicted and Preempted, lose
// their quota, and their Jobs are suspended (their pods go) until Kueue admits them again.
// AdmissionChecks: in a ClusterQueue that lists checks, a workload that reserves quota gets
// each check Pending in `status.admissionChecks`, and is Admitted only once every check's
// controller answered Ready; the checks' `podSetUpdates` go onto the Job's pod template when
// it is unsuspended (and come off when it is suspended again). Retry evicts the workload (its
// checks start over when it reserves again); Rejected evicts and deactivates it.
import type { PodTemplate } from '../api/models.js';
import { formatQuantity, type ResourceList } from '../api/quantity.js';
import type { KubeObject, ResourceType } from '../api/registry.js';
import type { AdmissionPlugin, Operation, ResourceService } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { podResources } from '../admission/resources.js';
import {
  EventRecorder,
  nsName,
  ownerRef,
  setCondition,
  splitKey,
  WorkQueue,
} from '../controllers/runtime.js';
import { cloneJson } from '../store/json-equal.js';
import type { Store } from '../store/store.js';
import {
  assignQuota,
  type PendingWorkload,
  type Preemption,
  type QueueSnapshot,
  type ReservedWorkload,
  type Usage,
} from './queueing.js';
import {
  INTEGRATIONS,
  integrationFor,
  integrationOfKind,
  type KueueIntegration,
} from './integrations.js';
import {
  type AdmissionCheck,
  type AdmissionCheckState,
  type ClusterQueue,
  conditionTrue,
  KUEUE_API_VERSION,
  KUEUE_KEYS,
  type LocalQueue,
  PRIORITY_CLASS_LABEL,
  QUEUE_NAME_LABEL,
  type ResourceFlavor,
  type Workload,
  type WorkloadPriorityClass,
} from './types.js';

export const JOB_UID_LABEL = 'kueue.x-k8s.io/job-uid';

/**
 * Kueue's Job and JobSet webhooks: one that names a queue starts suspended, so Kueue decides
 * when it runs.
 */
export class KueueJobWebhook implements AdmissionPlugin {
  admit(op: Operation, type: ResourceType, obj: KubeObject): void {
    if (op !== 'CREATE' || !obj.metadata.labels?.[QUEUE_NAME_LABEL] || !obj.spec) return;
    integrationFor(`${type.plural}.${type.group}`)?.setSuspended(obj, true);
  }
}

/** One pending workload in visibility order (`pendingworkloads`). */
export interface PendingInfo {
  namespace: string;
  name: string;
  localQueue: string;
  clusterQueue: string;
  priority: number;
  positionInClusterQueue: number;
  positionInLocalQueue: number;
  creationTimestamp: string;
}

const workloadName = (integration: KueueIntegration, owner: KubeObject) =>
  `${integration.prefix}-${owner.metadata.name}-${(owner.metadata.uid ?? '').replace(/-/g, '').slice(0, 5)}`.slice(
    0,
    253,
  );

type WorkloadPodSet = NonNullable<Workload['spec']>['podSets'][number];

/** What one pod set asks for in all: `count` pods of its template's requests. */
function podSetRequests(set: WorkloadPodSet): ResourceList {
  const one = podResources({ metadata: {}, spec: set.template.spec }, 'requests');
  one.pods = 1;
  return Object.fromEntries(Object.entries(one).map(([k, v]) => [k, v * (set.count ?? 1)]));
}

function totalRequests(wl: Workload): ResourceList {
  const total: ResourceList = {};
  for (const set of wl.spec?.podSets ?? [])
    for (const [k, v] of Object.entries(podSetRequests(set))) total[k] = (total[k] ?? 0) + v;
  return total;
}

const quantities = (list: ResourceList): Record<string, string> =>
  Object.fromEntries(Object.entries(list).map(([r, v]) => [r, formatQuantity(v, r)]));

/** A work-queue key naming the owner's type too: `<store key> <namespace>/<name>`. */
const ownerKey = (integration: KueueIntegration, obj: KubeObject) =>
  `${integration.key} ${nsName(obj)}`;

/** What an admitted workload holds: its pod sets' requests, in the flavors it was assigned. */
function usageOfAdmission(wl: Workload): { flavors: Record<string, string>; usage: ResourceList } {
  const flavors: Record<string, string> = {};
  for (const a of wl.status?.admission?.podSetAssignments ?? []) Object.assign(flavors, a.flavors);
  return { flavors, usage: totalRequests(wl) };
}

/** Evicted: every check starts over, Pending, without what it gave before. */
const resetChecks = (
  checks: AdmissionCheckState[] | undefined,
): AdmissionCheckState[] | undefined =>
  checks?.map((c) => ({
    name: c.name,
    state: 'Pending',
    lastTransitionTime: c.state === 'Pending' ? c.lastTransitionTime : new Date().toISOString(),
    message: '',
  }));

/** Puts back what admission changed on a suspended Job's pod template (Kueue's restore). */
function restorePodSetInfo(template: PodTemplate, original: PodTemplate): void {
  const meta = (template.metadata ??= {});
  if (original.metadata?.labels) meta.labels = { ...original.metadata.labels };
  else delete meta.labels;
  if (original.metadata?.annotations) meta.annotations = { ...original.metadata.annotations };
  else delete meta.annotations;
  if (original.spec.nodeSelector) template.spec.nodeSelector = { ...original.spec.nodeSelector };
  else delete template.spec.nodeSelector;
  if (original.spec.tolerations) template.spec.tolerations = [...original.spec.tolerations];
  else delete template.spec.tolerations;
}

export class KueueController {
  private readonly jobs: WorkQueue;
  private readonly passes: WorkQueue;
  private readonly events: EventRecorder;
  private pending: PendingInfo[] = [];

  constructor(
    private readonly store: Store,
    private readonly resources: ResourceService,
  ) {
    this.jobs = new WorkQueue((key) => this.reconcileOwner(key));
    this.passes = new WorkQueue(() => this.schedule());
    this.events = new EventRecorder(store, 'kueue-admission');
  }

  start(): void {
    this.store.onChange((key, ev) => {
      const integration = integrationFor(key);
      if (integration) {
        if (ev.object.metadata.labels?.[QUEUE_NAME_LABEL])
          this.jobs.add(ownerKey(integration, ev.object));
      } else if (
        key === KUEUE_KEYS.workloads ||
        key === KUEUE_KEYS.clusterQueues ||
        key === KUEUE_KEYS.localQueues ||
        key === KUEUE_KEYS.flavors ||
        key === KUEUE_KEYS.admissionChecks
      ) {
        if (key === KUEUE_KEYS.workloads && ev.type !== 'DELETED') {
          for (const o of ev.object.metadata.ownerReferences ?? []) {
            const owner = integrationOfKind(o.kind);
            if (owner) this.jobs.add(`${owner.key} ${ev.object.metadata.namespace}/${o.name}`);
          }
        }
        this.passes.add('schedule');
      }
    });
    for (const integration of INTEGRATIONS)
      for (const obj of this.store.list(integration.key))
        if (obj.metadata.labels?.[QUEUE_NAME_LABEL]) this.jobs.add(ownerKey(integration, obj));
    this.passes.add('schedule');
  }

  close(): void {
    this.jobs.close();
    this.passes.close();
  }

  /** Pending workloads of a ClusterQueue, or of a LocalQueue, in the order Kueue takes them. */
  pendingWorkloads(filter: { clusterQueue?: string; namespace?: string; localQueue?: string }) {
    return this.pending.filter(
      (p) =>
        (filter.clusterQueue === undefined || p.clusterQueue === filter.clusterQueue) &&
        (filter.namespace === undefined || p.namespace === filter.namespace) &&
        (filter.localQueue === undefined || p.localQueue === filter.localQueue),
    );
  }

  private workloadOf(owner: KubeObject): Workload | undefined {
    for (const d of this.store.dependentsOf(owner.metadata.uid ?? '')) {
      if (d.key !== KUEUE_KEYS.workloads) continue;
      const wl = this.store.get<Workload>(d.key, d.namespace, d.name);
      if (wl && !wl.metadata.deletionTimestamp) return wl;
    }
    return undefined;
  }

  private reconcileOwner(key: string): void {
    const space = key.indexOf(' ');
    const integration = integrationFor(key.slice(0, space));
    if (!integration) return;
    const [ns, name] = splitKey(key.slice(space + 1));
    const job = this.store.get(integration.key, ns, name);
    const queueName = job?.metadata.labels?.[QUEUE_NAME_LABEL];
    if (!job?.spec || !queueName || job.metadata.deletionTimestamp) return;
    const wl = this.workloadOf(job);
    const finished = integration.finished(job);
    if (!wl) {
      if (finished) return;
      this.createWorkload(integration, job, queueName);
      return;
    }
    if (finished) {
      if (conditionTrue(wl, 'Finished')) return;
      const { failed } = finished;
      this.store.mutate<Workload>(KUEUE_KEYS.workloads, ns, wl.metadata.name ?? '', (o) => {
        const status = (o.status ??= {});
        status.conditions = setCondition(status.conditions, {
          type: 'Finished',
          status: 'True',
          reason: failed ? 'Failed' : 'Succeeded',
          message: failed
            ? `${integration.kind} failed`
            : `${integration.kind} finished successfully`,
        });
      });
      return;
    }
    const suspended = integration.suspended(job);
    if (conditionTrue(wl, 'Admitted')) {
      if (suspended) this.unsuspend(integration, job, wl);
    } else if (!suspended && conditionTrue(wl, 'Evicted')) this.suspend(integration, job, wl);
  }

  /**
   * An evicted Workload's Job stops: suspended, its pods go, until Kueue admits it again. What
   * admission put on its pod templates (flavors' node labels, checks' podSetUpdates) comes off:
   * each pod set's template labels, annotations, nodeSelector and tolerations are the
   * Workload's again.
   */
  private suspend(integration: KueueIntegration, job: KubeObject, wl: Workload): void {
    const originals = new Map((wl.spec?.podSets ?? []).map((p) => [p.name, p.template]));
    this.store.mutate(integration.key, job.metadata.namespace, job.metadata.name ?? '', (o) => {
      if (!o.spec || o.metadata.uid !== job.metadata.uid) return false;
      integration.setSuspended(o, true);
      for (const [name, template] of integration.templates(o)) {
        const original = originals.get(name);
        if (original) restorePodSetInfo(template, original);
      }
    });
    this.events.record(
      job,
      'Normal',
      'Stopped',
      `Workload evicted; the ${integration.kind} is suspended`,
    );
  }

  /** The priority a Job's label names (a WorkloadPriorityClass), 0 without one. */
  private priorityOf(job: KubeObject): number {
    const name = job.metadata.labels?.[PRIORITY_CLASS_LABEL];
    if (!name) return 0;
    return (
      this.store.get<WorkloadPriorityClass>(KUEUE_KEYS.priorityClasses, undefined, name)?.value ?? 0
    );
  }

  private createWorkload(integration: KueueIntegration, job: KubeObject, queueName: string): void {
    const workload: Workload = {
      apiVersion: KUEUE_API_VERSION,
      kind: 'Workload',
      metadata: {
        name: workloadName(integration, job),
        namespace: job.metadata.namespace,
        labels: { [JOB_UID_LABEL]: job.metadata.uid ?? '' },
        ownerReferences: [ownerRef(job, integration.apiVersion)],
      },
      spec: {
        queueName,
        priority: this.priorityOf(job),
        active: true,
        podSets: integration.podSets(job).map((p) => ({
          name: p.name,
          count: p.count,
          template: cloneJson(p.template),
        })),
      },
    };
    try {
      this.resources.create(
        this.store.registry.get(KUEUE_KEYS.workloads),
        job.metadata.namespace,
        workload,
      );
      this.events.record(
        job,
        'Normal',
        'CreatedWorkload',
        `Created Workload: ${job.metadata.namespace}/${workload.metadata.name}`,
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return;
      throw err;
    }
  }

  /**
   * Starts an admitted Job: each pod set's template gets its assigned flavors' node labels as
   * its nodeSelector and the admission checks' podSetUpdates for that pod set (Kueue's
   * `RunWithPodSetsInfo`), then the owner is unsuspended. A JobSet's controller makes its child
   * Jobs from the updated templates.
   */
  private unsuspend(integration: KueueIntegration, job: KubeObject, wl: Workload): void {
    const nodeSelectors = new Map<string, Record<string, string>>();
    for (const a of wl.status?.admission?.podSetAssignments ?? []) {
      const selector: Record<string, string> = {};
      for (const flavor of new Set(Object.values(a.flavors)))
        Object.assign(
          selector,
          this.store.get<ResourceFlavor>(KUEUE_KEYS.flavors, undefined, flavor)?.spec?.nodeLabels,
        );
      nodeSelectors.set(a.name, selector);
    }
    const updates = (wl.status?.admissionChecks ?? []).flatMap((c) => c.podSetUpdates ?? []);
    this.store.mutate(integration.key, job.metadata.namespace, job.metadata.name ?? '', (o) => {
      if (!o.spec || o.metadata.uid !== job.metadata.uid) return false;
      integration.setSuspended(o, false);
      for (const [name, template] of integration.templates(o)) {
        const nodeSelector = nodeSelectors.get(name) ?? {};
        if (Object.keys(nodeSelector).length > 0)
          template.spec.nodeSelector = { ...(template.spec.nodeSelector ?? {}), ...nodeSelector };
        for (const u of updates) {
          if (u.name !== name) continue;
          const meta = (template.metadata ??= {});
          if (u.labels) meta.labels = { ...meta.labels, ...u.labels };
          if (u.annotations) meta.annotations = { ...meta.annotations, ...u.annotations };
          if (u.nodeSelector)
            template.spec.nodeSelector = { ...template.spec.nodeSelector, ...u.nodeSelector };
          if (u.tolerations)
            template.spec.tolerations = [...(template.spec.tolerations ?? []), ...u.tolerations];
        }
      }
    });
  }

  private schedule(): void {
    const queues = new Map<string, ClusterQueue>();
    for (const cq of this.store.list<ClusterQueue>(KUEUE_KEYS.clusterQueues))
      if (!cq.metadata.deletionTimestamp) queues.set(cq.metadata.name ?? '', cq);
    const inactive = new Set<string>();
    for (const [name, cq] of queues)
      for (const check of cq.spec?.admissionChecks ?? []) {
        const ac = this.store.get<AdmissionCheck>(KUEUE_KEYS.admissionChecks, undefined, check);
        if (!ac || !conditionTrue(ac, 'Active')) inactive.add(name);
      }
    const snapshots: QueueSnapshot[] = [...queues.values()].map((cq) => ({
      name: cq.metadata.name ?? '',
      ...(cq.spec?.cohort ? { cohort: cq.spec.cohort } : {}),
      strategy: cq.spec?.queueingStrategy ?? 'BestEffortFIFO',
      resourceGroups:
        cq.spec?.stopPolicy && cq.spec.stopPolicy !== 'None' ? [] : (cq.spec?.resourceGroups ?? []),
      ...(cq.spec?.preemption ? { preemption: cq.spec.preemption } : {}),
      flavorLabels: Object.fromEntries(
        (cq.spec?.resourceGroups ?? []).flatMap((g) =>
          g.flavors.map((f) => [
            f.name,
            this.store.get<ResourceFlavor>(KUEUE_KEYS.flavors, undefined, f.name)?.spec
              ?.nodeLabels ?? {},
          ]),
        ),
      ),
    }));
    const reserved: ReservedWorkload[] = [];
    const inUse = new Map<string, Usage>();
    const counts = new Map<string, { pending: number; admitted: number }>();
    const count = (key: string, field: 'pending' | 'admitted') => {
      const c = counts.get(key) ?? { pending: 0, admitted: 0 };
      c[field] += 1;
      counts.set(key, c);
    };
    const pending: PendingWorkload[] = [];
    const inadmissible = new Map<string, string>();
    const workloads = new Map<string, Workload>();
    for (const wl of this.store.list<Workload>(KUEUE_KEYS.workloads)) {
      if (wl.metadata.deletionTimestamp || conditionTrue(wl, 'Finished')) continue;
      const key = nsName(wl);
      workloads.set(key, wl);
      const lqName = wl.spec?.queueName ?? '';
      const lqKey = `lq:${wl.metadata.namespace}/${lqName}`;
      if (conditionTrue(wl, 'QuotaReserved') && wl.status?.admission) {
        // A check answered Retry or Rejected: the workload gave its quota back.
        if (this.followChecks(wl)) continue;
        const cq = wl.status.admission.clusterQueue;
        const { flavors, usage } = usageOfAdmission(wl);
        reserved.push({
          key,
          clusterQueue: cq,
          priority: wl.spec?.priority ?? 0,
          createdAt: wl.metadata.creationTimestamp ?? '',
          flavors,
          usage,
        });
        const byFlavor = inUse.get(cq) ?? new Map<string, Map<string, number>>();
        inUse.set(cq, byFlavor);
        for (const [resource, amount] of Object.entries(usage)) {
          const flavor = flavors[resource];
          if (!flavor) continue;
          const m = byFlavor.get(flavor) ?? new Map<string, number>();
          byFlavor.set(flavor, m);
          m.set(resource, (m.get(resource) ?? 0) + amount);
        }
        count(`cq:${cq}`, 'admitted');
        count(lqKey, 'admitted');
        continue;
      }
      if (wl.spec?.active === false) continue;
      const lq = this.store.get<LocalQueue>(KUEUE_KEYS.localQueues, wl.metadata.namespace, lqName);
      if (!lq) {
        inadmissible.set(key, `LocalQueue ${lqName} doesn't exist`);
        continue;
      }
      count(lqKey, 'pending');
      const cq = queues.get(lq.spec?.clusterQueue ?? '');
      if (!cq) {
        inadmissible.set(key, `ClusterQueue ${lq.spec?.clusterQueue} doesn't exist`);
        continue;
      }
      count(`cq:${cq.metadata.name}`, 'pending');
      if (inactive.has(cq.metadata.name ?? '')) {
        inadmissible.set(key, `ClusterQueue ${cq.metadata.name} is inactive`);
        continue;
      }
      if (!this.namespaceMatches(cq, wl.metadata.namespace)) {
        inadmissible.set(key, "Workload namespace doesn't match ClusterQueue selector");
        continue;
      }
      pending.push({
        key,
        clusterQueue: cq.metadata.name ?? '',
        priority: wl.spec?.priority ?? 0,
        createdAt: wl.metadata.creationTimestamp ?? '',
        requests: totalRequests(wl),
        podSets: (wl.spec?.podSets ?? []).map((set) => ({
          name: set.name,
          requests: podSetRequests(set),
          ...(set.template?.spec?.nodeSelector
            ? { nodeSelector: set.template.spec.nodeSelector }
            : {}),
        })),
      });
    }
    const decision = assignQuota(snapshots, inUse, pending, reserved);
    for (const p of decision.preempted) this.preempt(p, workloads);
    for (const a of decision.admitted) {
      const wl = workloads.get(a.key)!;
      const [ns, name] = splitKey(a.key);
      const checks = queues.get(a.clusterQueue)?.spec?.admissionChecks ?? [];
      this.store.mutate<Workload>(KUEUE_KEYS.workloads, ns, name, (o) => {
        const status = (o.status ??= {});
        status.admission = {
          clusterQueue: a.clusterQueue,
          // Every pod set, all of its pods: quota is reserved for the whole workload or none.
          podSetAssignments: (o.spec?.podSets ?? []).map((set) => {
            const requests = podSetRequests(set);
            return {
              name: set.name,
              flavors: Object.fromEntries(
                Object.keys(requests).flatMap((r) => (a.flavors[r] ? [[r, a.flavors[r]]] : [])),
              ),
              resourceUsage: quantities(requests),
              count: set.count ?? 1,
            };
          }),
        };
        status.conditions = setCondition(status.conditions, {
          type: 'QuotaReserved',
          status: 'True',
          reason: 'QuotaReserved',
          message: `Quota reserved in ClusterQueue ${a.clusterQueue}`,
        });
        // The queue's checks start Pending; Admitted waits for every one to be Ready.
        status.admissionChecks = checks.map(
          (name) =>
            status.admissionChecks?.find((c) => c.name === name && c.state === 'Pending') ?? {
              name,
              state: 'Pending',
              lastTransitionTime: new Date().toISOString(),
              message: '',
            },
        );
        if (checks.length === 0)
          status.conditions = setCondition(status.conditions, {
            type: 'Admitted',
            status: 'True',
            reason: 'Admitted',
            message: 'The workload is admitted',
          });
        // Admitted again after an eviction: the eviction is history.
        for (const type of ['Evicted', 'Preempted']) {
          const previous = status.conditions.find((c) => c.type === type && c.status === 'True');
          if (previous)
            status.conditions = setCondition(status.conditions, {
              type,
              status: 'False',
              reason: 'QuotaReserved',
              message: `Previously: ${previous.message ?? previous.reason ?? type}`,
            });
        }
      });
      this.events.record(
        wl,
        'Normal',
        'QuotaReserved',
        `Quota reserved in ClusterQueue ${a.clusterQueue}`,
      );
      if (checks.length === 0)
        this.events.record(wl, 'Normal', 'Admitted', `Admitted by ClusterQueue ${a.clusterQueue}`);
      const cqCounts = counts.get(`cq:${a.clusterQueue}`);
      const lqCounts = counts.get(`lq:${ns}/${wl.spec?.queueName ?? ''}`);
      for (const c of [cqCounts, lqCounts])
        if (c) {
          c.pending -= 1;
          c.admitted += 1;
        }
    }
    const waiting = new Map([...inadmissible, ...decision.waiting]);
    for (const [key, message] of waiting) {
      const [ns, name] = splitKey(key);
      const reason = inadmissible.has(key) ? 'Inadmissible' : 'Pending';
      this.store.mutate<Workload>(KUEUE_KEYS.workloads, ns, name, (o) => {
        const status = (o.status ??= {});
        status.conditions = setCondition(status.conditions, {
          type: 'QuotaReserved',
          status: 'False',
          reason,
          message,
        });
      });
    }
    this.pending = this.visibility(decision.order, workloads);
    this.writeQueueStatus(counts);
  }

  /**
   * Evicts a workload to make room for another: it loses its quota (QuotaReserved and
   * Admitted False), is Evicted and Preempted with Kueue's reasons, and goes back to its queue;
   * its Job is suspended by the next job reconcile.
   */
  private preempt(p: Preemption, workloads: Map<string, Workload>): void {
    const victim = workloads.get(p.key);
    const by = workloads.get(p.by);
    if (!victim) return;
    const [ns, name] = splitKey(p.key);
    const why =
      p.reason === 'InClusterQueue'
        ? 'prioritization in the ClusterQueue'
        : 'reclamation within the cohort';
    const message = `Preempted to accommodate a workload (UID: ${by?.metadata.uid ?? ''}) due to ${why}`;
    this.store.mutate<Workload>(KUEUE_KEYS.workloads, ns, name, (o) => {
      const status = (o.status ??= {});
      delete status.admission;
      for (const c of [
        { type: 'Evicted', status: 'True', reason: 'Preempted', message },
        { type: 'Preempted', status: 'True', reason: p.reason, message },
        { type: 'QuotaReserved', status: 'False', reason: 'Preempted', message },
        { type: 'Admitted', status: 'False', reason: 'Preempted', message },
      ])
        status.conditions = setCondition(status.conditions, c);
      status.admissionChecks = resetChecks(status.admissionChecks);
    });
    this.events.record(victim, 'Normal', 'Preempted', message);
  }

  /**
   * A workload holding quota, as its admission checks say: all Ready admits it; a Retry evicts
   * it back to its queue (its checks Pending again); a Rejected evicts and deactivates it.
   * True when it gave its quota back.
   */
  private followChecks(wl: Workload): boolean {
    const checks = wl.status?.admissionChecks ?? [];
    if (checks.length === 0) return false;
    const [ns, name] = splitKey(nsName(wl));
    const rejected = checks.filter((c) => c.state === 'Rejected').map((c) => c.name);
    const retry = checks.some((c) => c.state === 'Retry');
    if (rejected.length > 0 || retry) {
      const message =
        rejected.length > 0
          ? `The workload is deactivated due to Admission check(s): [${rejected.join(', ')}], were rejected`
          : 'At least one admission check is false';
      const reason = rejected.length > 0 ? 'Deactivated' : 'AdmissionCheck';
      this.store.mutate<Workload>(KUEUE_KEYS.workloads, ns, name, (o) => {
        if (rejected.length > 0 && o.spec) o.spec.active = false;
        const status = (o.status ??= {});
        delete status.admission;
        for (const c of [
          { type: 'Evicted', status: 'True', reason, message },
          { type: 'QuotaReserved', status: 'False', reason, message },
          { type: 'Admitted', status: 'False', reason, message },
        ])
          status.conditions = setCondition(status.conditions, c);
        if (rejected.length === 0) status.admissionChecks = resetChecks(status.admissionChecks);
      });
      this.events.record(wl, 'Normal', 'EvictedDueToAdmissionCheck', message);
      return true;
    }
    if (!conditionTrue(wl, 'Admitted') && checks.every((c) => c.state === 'Ready')) {
      this.store.mutate<Workload>(KUEUE_KEYS.workloads, ns, name, (o) => {
        const status = (o.status ??= {});
        status.conditions = setCondition(status.conditions, {
          type: 'Admitted',
          status: 'True',
          reason: 'Admitted',
          message: 'The workload is admitted',
        });
      });
      this.events.record(
        wl,
        'Normal',
        'Admitted',
        `Admitted by ClusterQueue ${wl.status?.admission?.clusterQueue ?? ''}`,
      );
    }
    return false;
  }

  private namespaceMatches(cq: ClusterQueue, namespace: string | undefined): boolean {
    const want = cq.spec?.namespaceSelector?.matchLabels;
    if (!want) return true;
    const labels = this.store.get('namespaces', undefined, namespace ?? '')?.metadata.labels ?? {};
    return Object.entries(want).every(([k, v]) => labels[k] === v);
  }

  private visibility(
    order: Map<string, string[]>,
    workloads: Map<string, Workload>,
  ): PendingInfo[] {
    const out: PendingInfo[] = [];
    const perLocal = new Map<string, number>();
    for (const [cq, keys] of order) {
      keys.forEach((key, i) => {
        const wl = workloads.get(key);
        if (!wl) return;
        const lq = `${wl.metadata.namespace}/${wl.spec?.queueName ?? ''}`;
        const inLocal = perLocal.get(lq) ?? 0;
        perLocal.set(lq, inLocal + 1);
        out.push({
          namespace: wl.metadata.namespace ?? '',
          name: wl.metadata.name ?? '',
          localQueue: wl.spec?.queueName ?? '',
          clusterQueue: cq,
          priority: wl.spec?.priority ?? 0,
          positionInClusterQueue: i,
          positionInLocalQueue: inLocal,
          creationTimestamp: wl.metadata.creationTimestamp ?? '',
        });
      });
    }
    return out;
  }

  private writeQueueStatus(counts: Map<string, { pending: number; admitted: number }>): void {
    for (const cq of this.store.list<ClusterQueue>(KUEUE_KEYS.clusterQueues)) {
      const c = counts.get(`cq:${cq.metadata.name}`) ?? { pending: 0, admitted: 0 };
      this.store.mutate<ClusterQueue>(
        KUEUE_KEYS.clusterQueues,
        undefined,
        cq.metadata.name ?? '',
        (o) => {
          o.status = {
            ...o.status,
            pendingWorkloads: c.pending,
            reservingWorkloads: c.admitted,
            admittedWorkloads: c.admitted,
            conditions: setCondition(o.status?.conditions, {
              type: 'Active',
              status: 'True',
              reason: 'Ready',
              message: 'Can admit new workloads',
            }),
          };
        },
      );
    }
    for (const lq of this.store.list<LocalQueue>(KUEUE_KEYS.localQueues)) {
      const c = counts.get(`lq:${lq.metadata.namespace}/${lq.metadata.name}`) ?? {
        pending: 0,
        admitted: 0,
      };
      const active = this.store.get(
        KUEUE_KEYS.clusterQueues,
        undefined,
        lq.spec?.clusterQueue ?? '',
      );
      this.store.mutate<LocalQueue>(
        KUEUE_KEYS.localQueues,
        lq.metadata.namespace,
        lq.metadata.name ?? '',
        (o) => {
          o.status = {
            ...o.status,
            pendingWorkloads: c.pending,
            reservingWorkloads: c.admitted,
            admittedWorkloads: c.admitted,
            conditions: setCondition(
              o.status?.conditions,
              active
                ? {
                    type: 'Active',
                    status: 'True',
                    reason: 'Ready',
                    message: 'Can submit new workloads to localQueue',
                  }
                : {
                    type: 'Active',
                    status: 'False',
                    reason: 'ClusterQueueDoesNotExist',
                    message: "Can't submit new workloads to clusterQueue",
                  },
            ),
          };
        },
      );
    }
  }
}
