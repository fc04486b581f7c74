import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  holdsNode,
  type NodeJson,
  type NodeState,
  nodeStatesFromKubernetes,
  type PodJson,
  podRequests,
  type RunningPod,
} from '@roam/domain';
import {
  CORDONED_BY_ANNOTATION,
  type Informer,
  Kube,
  type KubernetesObject,
  type ObjectCache,
  ROAM_LABELS,
  UNFINISHED_PODS,
} from '@roam/kube';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

type NodeObject = KubernetesObject & NodeJson;
type PodObject = KubernetesObject & PodJson & { metadata?: { labels?: Record<string, string> } };

/** A roam pod bound to a node: where its job holds room, for preemption by node. */
export interface BoundPod extends RunningPod {
  /** Its `roam.dev/attempt` label: a preempted attempt's pods may linger while they stop. */
  attempt: number;
}

/**
 * Informer caches of nodes and pods: the capacity half of the admission snapshot, kept
 * current by watch events so a cycle never lists the cluster.
 */
@Injectable()
export class ClusterView implements OnApplicationBootstrap, OnModuleDestroy {
  private nodes?: Informer<NodeObject> & ObjectCache<NodeObject>;
  private pods?: Informer<PodObject> & ObjectCache<PodObject>;
  private started?: Promise<void>;

  constructor(
    private readonly kube: Kube,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.nodes = this.kube.informer<NodeObject>('/api/v1/nodes', 'v1', 'Node');
    // Finished pods hold no room: left out, the cache keeps only what counts, and a finished
    // pod's later changes (its finalizer, its deletion) are never sent here.
    this.pods = this.kube.informer<PodObject>('/api/v1/pods', 'v1', 'Pod', {
      fieldSelector: UNFINISHED_PODS,
    });
    for (const informer of [this.nodes, this.pods]) {
      informer.on('error', (error: unknown) =>
        this.logger.warn({ err: error }, 'cluster informer error; it re-lists'),
      );
    }
    this.started = Promise.all([this.nodes.start(), this.pods.start()]).then(() => undefined);
    this.started.catch((error: unknown) =>
      this.logger.error({ err: error }, 'cluster informers failed to start'),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.nodes?.stop(), this.pods?.stop()]);
  }

  /** Resolves once both caches hold a first full list. */
  async ready(): Promise<void> {
    await this.started;
  }

  /** The pods of one attempt of a roam job, as the informer holds them (to preempt it). */
  podsOf(jobId: string, attempt: number): { namespace: string; name: string }[] {
    return (this.pods?.list() ?? []).flatMap((pod) => {
      const labels = pod.metadata?.labels;
      const { name, namespace } = pod.metadata ?? {};
      if (labels?.[ROAM_LABELS.jobId] !== jobId || !name || !namespace) return [];
      return labels[ROAM_LABELS.attempt] === String(attempt) ? [{ namespace, name }] : [];
    });
  }

  /**
   * The nodes, the roam jobs whose pods are bound to one (and so counted in its `requested`):
   * admission adds the admitted jobs missing from that set itself; those pods by job (where a
   * preemption by node makes room); and the failover action that cordoned each node it
   * cordoned, for the message of a job whose capacity is gone.
   */
  snapshot(): {
    nodes: NodeState[];
    placed: Set<string>;
    cordonedBy: Map<string, string>;
    bound: Map<string, BoundPod[]>;
  } {
    const pods = this.pods?.list() ?? [];
    const placed = new Set<string>();
    const bound = new Map<string, BoundPod[]>();
    for (const pod of pods) {
      const labels: Record<string, string> | undefined = pod.metadata?.labels;
      const jobId = labels?.[ROAM_LABELS.jobId];
      if (!jobId || !holdsNode(pod)) continue;
      placed.add(jobId);
      let list = bound.get(jobId);
      if (!list) bound.set(jobId, (list = []));
      list.push({
        node: pod.spec.nodeName,
        resources: podRequests(pod),
        attempt: Number(labels?.[ROAM_LABELS.attempt]),
      });
    }
    const nodes = this.nodes?.list() ?? [];
    const cordonedBy = new Map<string, string>();
    for (const node of nodes) {
      const action = node.metadata?.annotations?.[CORDONED_BY_ANNOTATION];
      if (action && node.metadata?.name) cordonedBy.set(node.metadata.name, action);
    }
    return { nodes: nodeStatesFromKubernetes(nodes, pods), placed, cordonedBy, bound };
  }
}
