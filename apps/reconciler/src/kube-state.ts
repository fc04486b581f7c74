import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { GKE_SPOT_LABEL, type KubeJob, type KubePod, type NodeOfPod } from '@roam/domain';
import {
  attemptOf,
  Kube,
  type KubernetesObject,
  MANAGED_BY_ROAM,
  ROAM_LABELS,
  type ResilientInformer,
  JOBSET_API_VERSION,
} from '@roam/kube';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

type Tracked = KubernetesObject & { metadata?: { labels?: Record<string, string> } };

/** The fields of a jobset.x-k8s.io/v1alpha2 JobSet the reconciler reads. */
type JobSetObject = Tracked & {
  status?: {
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    restarts?: number;
  };
};

/**
 * A JobSet as the Job-shaped object the reconciler's decisions read: its `Completed` condition
 * is a Job's `Complete`, `Failed` stays `Failed`, `restarts` is kept (the reconciler records
 * each restart on the job); its own kind and name stay, so deleting it
 * deletes the JobSet (and, by ownership, its Jobs and pods).
 */
export function jobSetAsJob(object: JobSetObject): KubeJob & Tracked {
  const conditions = (object.status?.conditions ?? []).flatMap((c) =>
    c.type === 'Completed' ? [{ ...c, type: 'Complete' }] : c.type === 'Failed' ? [c] : [],
  );
  return {
    apiVersion: JOBSET_API_VERSION,
    kind: 'JobSet',
    ...(object.metadata ? { metadata: object.metadata } : {}),
    spec: { backoffLimit: 0 },
    status: {
      conditions,
      ...(object.status?.restarts !== undefined ? { restarts: object.status.restarts } : {}),
    },
  };
}

export interface AttemptKey {
  jobId: string;
  attempt: number;
}

const keyOf = (object: Tracked): AttemptKey | undefined => {
  const labels = object.metadata?.labels;
  const jobId = labels?.[ROAM_LABELS.jobId];
  const attempt = attemptOf(labels);
  return jobId && attempt !== undefined ? { jobId, attempt } : undefined;
};

/** Deleted nodes remembered for the messages of pods lost with them. */
const GONE_NODES_KEPT = 1000;

/**
 * roam's Jobs and Pods as the informers last saw them, indexed by job id and attempt. Every
 * change calls `onChange(jobId)`; the reconciler then reads the whole picture from here.
 */
@Injectable()
export class KubeState implements OnModuleDestroy {
  private jobsInformer?: ResilientInformer<KubeJob & Tracked>;
  private podsInformer?: ResilientInformer<KubePod & Tracked>;
  private jobSetsInformer?: ResilientInformer<JobSetObject>;
  /** An attempt's Job, or its JobSet seen as a Job (`jobSetAsJob`). */
  private readonly jobs = new Map<string, KubeJob & Tracked>();
  private readonly pods = new Map<string, Map<string, KubePod & Tracked>>();
  private nodesInformer?: ResilientInformer<Tracked>;
  /**
   * Nodes by name, and nodes deleted since (kept so a pod lost with its node can say which kind
   * of node it was). Deleted ones are forgotten oldest first past `GONE_NODES_KEPT`.
   */
  private readonly nodes = new Map<string, NodeOfPod>();
  private readonly goneNodes: string[] = [];

  constructor(
    readonly kube: Kube,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async start(onChange: (jobId: string) => void): Promise<void> {
    // A retry after a failed start replaces the informers of the failed attempt.
    await Promise.all([
      this.jobsInformer?.stop(),
      this.podsInformer?.stop(),
      this.jobSetsInformer?.stop(),
      this.nodesInformer?.stop(),
    ]);
    this.jobsInformer = this.kube.informer<KubeJob & Tracked>(
      '/apis/batch/v1/jobs',
      'batch/v1',
      'Job',
      { labelSelector: MANAGED_BY_ROAM },
    );
    this.podsInformer = this.kube.informer<KubePod & Tracked>('/api/v1/pods', 'v1', 'Pod', {
      labelSelector: MANAGED_BY_ROAM,
    });
    // A cluster without the JobSet CRD fails this list and retries on its own: only JobSet
    // jobs wait for it (`jobSetsSynced`).
    this.jobSetsInformer = this.kube.informer<JobSetObject>(
      '/apis/jobset.x-k8s.io/v1alpha2/jobsets',
      JOBSET_API_VERSION,
      'JobSet',
      { labelSelector: MANAGED_BY_ROAM },
    );
    // Nodes: only whether they are spot and their pool, for the message of a capacity loss.
    this.nodesInformer = this.kube.informer<Tracked>('/api/v1/nodes', 'v1', 'Node');
    const putNode = (object: Tracked) => {
      const name = object.metadata?.name;
      if (!name) return;
      const labels = object.metadata?.labels ?? {};
      const pool = labels['cloud.google.com/gke-nodepool'];
      this.nodes.set(name, {
        spot: labels[GKE_SPOT_LABEL] === 'true',
        ...(pool ? { pool } : {}),
        gone: false,
      });
    };
    this.nodesInformer.on('add', putNode);
    this.nodesInformer.on('update', putNode);
    this.nodesInformer.on('delete', (object: Tracked) => {
      const name = object.metadata?.name;
      const known = name ? this.nodes.get(name) : undefined;
      if (!name || !known) return;
      this.nodes.set(name, { ...known, gone: true });
      this.goneNodes.push(name);
      while (this.goneNodes.length > GONE_NODES_KEPT) {
        const oldest = this.goneNodes.shift()!;
        if (this.nodes.get(oldest)?.gone) this.nodes.delete(oldest);
      }
    });
    const track = <T extends Tracked>(index: (object: T, present: boolean) => void) => ({
      put: (object: T) => index(object, true),
      drop: (object: T) => index(object, false),
    });
    const jobs = track<KubeJob & Tracked>((object, present) => {
      const key = keyOf(object);
      if (!key) return;
      const id = `${key.jobId}/${key.attempt}`;
      if (present) this.jobs.set(id, object);
      else this.jobs.delete(id);
      onChange(key.jobId);
    });
    const pods = track<KubePod & Tracked>((object, present) => {
      const key = keyOf(object);
      const name = object.metadata?.name;
      if (!key || !name) return;
      const id = `${key.jobId}/${key.attempt}`;
      const set = this.pods.get(id) ?? new Map<string, KubePod & Tracked>();
      if (present) set.set(name, object);
      else set.delete(name);
      if (set.size === 0) this.pods.delete(id);
      else this.pods.set(id, set);
      onChange(key.jobId);
    });
    const jobSets = track<JobSetObject>((object, present) =>
      jobs[present ? 'put' : 'drop'](jobSetAsJob(object)),
    );
    this.jobSetsInformer.on('add', jobSets.put);
    this.jobSetsInformer.on('update', jobSets.put);
    this.jobSetsInformer.on('delete', jobSets.drop);
    this.jobsInformer.on('add', jobs.put);
    this.jobsInformer.on('update', jobs.put);
    this.jobsInformer.on('delete', jobs.drop);
    this.podsInformer.on('add', pods.put);
    this.podsInformer.on('update', pods.put);
    this.podsInformer.on('delete', pods.drop);
    for (const informer of [
      this.jobsInformer,
      this.podsInformer,
      this.jobSetsInformer,
      this.nodesInformer,
    ]) {
      informer.on('error', (error: unknown) =>
        this.logger.warn({ err: error }, 'informer error; it re-lists'),
      );
    }
    // Resolves even when a first list failed: the informers then retry on their own, and
    // `isSynced()` stays false until both have listed.
    await Promise.all([
      this.jobsInformer.start(),
      this.podsInformer.start(),
      this.jobSetsInformer.start(),
      this.nodesInformer.start(),
    ]);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([
      this.jobsInformer?.stop(),
      this.podsInformer?.stop(),
      this.jobSetsInformer?.stop(),
      this.nodesInformer?.stop(),
    ]);
  }

  /** The JobSet cache holds a successful list (false on a cluster without the CRD). */
  jobSetsSynced(): boolean {
    return Boolean(this.jobSetsInformer?.hasSynced());
  }

  /** The node as last seen (`gone` once deleted); undefined if the informer never saw it. */
  node(name: string): NodeOfPod | undefined {
    return this.nodes.get(name);
  }

  /**
   * Both caches hold a successful list. Before that, a Job missing from the cache is unknown,
   * not gone: the reconciler must not call its job lost.
   */
  isSynced(): boolean {
    return Boolean(this.jobsInformer?.hasSynced() && this.podsInformer?.hasSynced());
  }

  job(jobId: string, attempt: number): (KubeJob & Tracked) | undefined {
    return this.jobs.get(`${jobId}/${attempt}`);
  }

  podsOf(jobId: string, attempt: number): (KubePod & Tracked)[] {
    return [...(this.pods.get(`${jobId}/${attempt}`)?.values() ?? [])];
  }

  /** Every Job roam created that the cache holds, with its job id and attempt. */
  *allJobs(): Generator<AttemptKey & { object: KubeJob & Tracked }> {
    for (const object of this.jobs.values()) {
      const key = keyOf(object);
      if (key) yield { ...key, object };
    }
  }
}
