import type { Waiting } from './admission.js';
import type { CapacityWaitReason } from './job-state.js';
import type { KubePod } from './kubernetes.js';
import { nodeAccepts, isUsable, compareStrings, GKE_SPOT_LABEL } from './nodes.js';
import { fits } from './resources.js';
import type { NodeState, PendingJob } from './snapshot.js';

/*
 * Capacity loss (docs/scheduling.md#capacity-loss): what to do with a job when the nodes it ran
 * on, or could run on, went away. Two decisions, both pure:
 *
 * - `podCapacityLoss`: did the current attempt end because its node went away (deleted, spot
 *   capacity reclaimed, shut down, drained) rather than through anything the job did? Then the
 *   reconciler requeues it (`requeue` / `CapacityLost`) without using a retry, up to a bound.
 * - `waitingCapacityLoss`: a job admission left waiting for capacity, where every node that
 *   could ever hold it is cordoned or NotReady: capacity is lost, not busy. It waits as
 *   `Queued/CapacityUnavailable`, and, if it may be offloaded, the offload worker offers it to
 *   RunPod at once instead of after the usual delay (`withCapacityLoss`).
 */

/** How a node left under a pod. */
export type NodeLossKind = 'deleted' | 'reclaimed' | 'shut down' | 'drained';

/** What the reconciler knows of the node a pod ran on (from its node informer). */
export interface NodeOfPod {
  /** `cloud.google.com/gke-spot: "true"`. */
  spot: boolean;
  pool?: string;
  /** The node object no longer exists. */
  gone: boolean;
}

export interface PodCapacityLoss {
  node: string;
  kind: NodeLossKind;
  /** `node gke-…-spot-3 was reclaimed (spot)`: what the requeue's message says. */
  message: string;
}

/** DisruptionTarget reasons that say the node went away, not that the pod misbehaved. */
const NODE_GONE = new Set(['DeletionByPodGC', 'DeletionByTaintManager']);
const NODE_SHUTDOWN = new Set(['TerminationByKubelet']);
const NODE_DRAINED = new Set(['EvictionByEvictionAPI']);

function disruptionReason(pod: KubePod): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True')
    ?.reason;
}

/**
 * Whether the failed pod of an attempt was lost with its node, and how. Only a cause Kubernetes
 * states counts: the pod's `NodeLost` reason, or a `DisruptionTarget` condition for pod GC after
 * the node was deleted, the taint manager, the kubelet's graceful node shutdown (how GKE reclaims
 * spot capacity) or an eviction (a drain). An eviction for node pressure (`status.reason:
 * Evicted` without such a condition), an OOM kill or a non-zero exit are the job's own: they go
 * through its retry policy. `node` is what the node informer knows of the pod's node.
 */
export function podCapacityLoss(
  pod: KubePod | undefined,
  node?: NodeOfPod,
): PodCapacityLoss | undefined {
  if (!pod || pod.status?.phase !== 'Failed') return undefined;
  const name = pod.spec?.nodeName;
  if (!name) return undefined;
  const disruption = disruptionReason(pod) ?? '';
  let kind: NodeLossKind;
  if (pod.status.reason === 'NodeLost' || NODE_GONE.has(disruption)) kind = 'deleted';
  else if (NODE_SHUTDOWN.has(disruption)) kind = 'shut down';
  else if (NODE_DRAINED.has(disruption)) kind = 'drained';
  else return undefined;
  const spot = node?.spot === true || pod.spec?.nodeSelector?.[GKE_SPOT_LABEL] === 'true';
  // A spot node deleted or shut down under its pods is the provider taking the capacity back.
  if (spot && kind !== 'drained') kind = 'reclaimed';
  const pool = node?.pool ? ` of pool ${node.pool}` : '';
  return { node: name, kind, message: `node ${name}${pool} was ${kind}${spot ? ' (spot)' : ''}` };
}

export interface CapacityRequeueDecision {
  requeue: boolean;
  /** The message of the requeue, or why the loss counts as a failure after all. */
  message: string;
}

/**
 * Requeue for a capacity loss unless the job has been requeued `maxRequeues` times already: a
 * node pool that keeps losing nodes cannot loop a job forever. Past the bound the loss is an
 * ordinary failure (Lost or Evicted) for the retry policy.
 */
export function capacityRequeue(
  loss: PodCapacityLoss,
  requeues: number,
  maxRequeues: number,
): CapacityRequeueDecision {
  if (requeues >= maxRequeues)
    return {
      requeue: false,
      message: `${loss.message}; already requeued ${requeues} times for lost capacity (MAX_REQUEUES ${maxRequeues}), so this counts as a failure`,
    };
  return {
    requeue: true,
    message: `requeued: ${loss.message}; no retry used (requeue ${requeues + 1} of at most ${maxRequeues})`,
  };
}

export interface WaitingCapacityLoss {
  /** The unusable nodes' pools (or node names when they have no pool), sorted. */
  pools: string[];
  message: string;
}

/** Pools cordoned by a failover action carry its id (`roam.dev/cordoned-by`). */
export interface CordonFacts {
  /** action id per cordoned node name. */
  cordonedBy?: ReadonlyMap<string, string>;
}

function describeRequest(job: Pick<PendingJob, 'resources' | 'gpuType'>): string {
  const { cpuMillis, memoryBytes, gpu } = job.resources;
  if (gpu > 0) return `${gpu}× ${job.gpuType ?? 'GPU'}`;
  return `${cpuMillis / 1000} CPU and ${Math.round(memoryBytes / 2 ** 20)} MiB`;
}

/**
 * For a job admission left waiting for capacity (`InsufficientCapacity`, `Unschedulable`):
 * capacity is lost when some node could hold the job (flavor, selector, taints and allocatable
 * allow it) but none of those is usable now (every one cordoned or NotReady). Undefined when a
 * usable node could hold it (it waits for room, as usual) or when no node could ever hold it
 * (Unschedulable: nothing was lost). `nodes` are the snapshot's, cordoned and NotReady included.
 */
export function waitingCapacityLoss(
  job: Pick<PendingJob, 'resources' | 'nodeSelector' | 'tolerations' | 'gpuType' | 'capacity'>,
  nodes: readonly NodeState[],
  facts: CordonFacts = {},
): WaitingCapacityLoss | undefined {
  const could = nodes.filter(
    (n) =>
      nodeAccepts(job, n, { ignoreConditionTaints: true }) && fits(job.resources, n.allocatable),
  );
  if (could.length === 0 || could.some(isUsable)) return undefined;
  const groups = new Map<string, { cordoned: number; notReady: number; actions: Set<string> }>();
  for (const node of could) {
    const key = node.pool ?? node.name;
    const group = groups.get(key) ?? { cordoned: 0, notReady: 0, actions: new Set<string>() };
    if (!node.schedulable) group.cordoned += 1;
    else group.notReady += 1;
    const action = facts.cordonedBy?.get(node.name);
    if (action && !node.schedulable) group.actions.add(action);
    groups.set(key, group);
  }
  const pools = [...groups.keys()].sort(compareStrings);
  const parts = pools.map((key) => {
    const group = groups.get(key)!;
    const what = nodes.some((n) => n.pool === key) ? `pool ${key}` : `node ${key}`;
    const how =
      group.notReady === 0
        ? 'cordoned'
        : group.cordoned === 0
          ? 'NotReady'
          : 'cordoned or NotReady';
    const actions = [...group.actions].sort(compareStrings);
    return `${what} ${how}${actions.length > 0 ? ` by action ${actions.join(', ')}` : ''}`;
  });
  return {
    pools,
    message: `${parts.join('; ')}; no other node can take ${describeRequest(job)}`,
  };
}

/** A wait as admission decided it, or rewritten because the capacity it needs is gone. */
export type CapacityAwareWaiting = Omit<Waiting, 'reason'> & {
  reason: Waiting['reason'] | CapacityWaitReason;
};

/**
 * Rewrites admission's `InsufficientCapacity` waits whose capacity is gone, not busy
 * (`waitingCapacityLoss`), as `CapacityUnavailable`. The message says what went and what follows
 * from the job's offload preference: `allowed` is offered to RunPod at once by the offload
 * worker (its GPU choice, price cap and budget apply as for any job); `never` waits for the
 * capacity to come back. `decide()` stays as it is: this runs on its result.
 */
export function withCapacityLoss(
  waiting: readonly Waiting[],
  pending: readonly PendingJob[],
  nodes: readonly NodeState[],
  facts: CordonFacts = {},
): CapacityAwareWaiting[] {
  if (!waiting.some((w) => w.reason === 'InsufficientCapacity')) return [...waiting];
  const jobs = new Map(pending.map((job) => [job.id, job]));
  return waiting.map((w): CapacityAwareWaiting => {
    if (w.reason !== 'InsufficientCapacity') return w;
    const job = jobs.get(w.jobId);
    const loss = job && waitingCapacityLoss(job, nodes, facts);
    if (!job || !loss) return w;
    const then =
      job.offloadPreference === 'allowed'
        ? ''
        : '; offload: never, so it waits until that capacity is back';
    return { ...w, reason: 'CapacityUnavailable', message: `${loss.message}${then}` };
  });
}
