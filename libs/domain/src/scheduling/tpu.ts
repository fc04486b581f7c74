import { GKE_LABELS, topologyChips } from '../failover/preflight.js';
import type { NeverFitsReason } from './never-fits.js';
import { nodeAccepts, type JobPlacement } from './nodes.js';
import type { NodeState, PendingJob, PodSet, TpuSlice } from './snapshot.js';

/** GKE's node labels for a TPU slice's accelerator type and topology. */
export const GKE_TPU_ACCELERATOR_LABEL = 'cloud.google.com/gke-tpu-accelerator';
export const GKE_TPU_TOPOLOGY_LABEL = GKE_LABELS.tpuTopology;

/** The node belongs to a slice of this type and topology. */
export function carriesSlice(node: Pick<NodeState, 'labels'>, tpu: TpuSlice): boolean {
  return (
    node.labels[GKE_TPU_ACCELERATOR_LABEL] === tpu.type &&
    node.labels[GKE_TPU_TOPOLOGY_LABEL] === tpu.topology
  );
}

/** What TPU placement reads of a job: its requests, its slice and its pod sets. */
type TpuJob = Pick<PendingJob, 'resources' | 'tpu' | 'podSets'>;

/** How a TPU slice lays out on this cluster's nodes of its type and topology. */
export interface SliceLayout {
  /** Chips in the topology: the product of its sides (`2x4` → 8). */
  chips: number;
  /** Chips one node of the slice carries (its `gke-accelerator-count` label, else allocatable). */
  perHost: number;
  /** Nodes (hosts) the slice spans: chips ÷ chips per host, as the failover preflight counts. */
  hosts: number;
}

/**
 * The layout of a slice on the nodes that carry its type and topology labels (every node, any
 * readiness: they agree on their shape whether up or not). With no such node, or no chip count
 * on it, the slice is taken as one host of all its chips: placement then finds no node for it
 * and says so.
 */
export function sliceLayout(tpu: TpuSlice, nodes: readonly NodeState[]): SliceLayout {
  const chips = topologyChips(tpu.topology) ?? 0;
  let perHost = 0;
  let first: NodeState | undefined;
  for (const node of nodes) {
    if (!carriesSlice(node, tpu)) continue;
    if (!first || node.name < first.name) first = node;
  }
  if (first) {
    const label = Number(first.labels[GKE_LABELS.acceleratorCount]);
    perHost = Number.isInteger(label) && label > 0 ? label : (first.allocatable.tpu ?? 0);
  }
  if (perHost <= 0 || perHost >= chips || chips % perHost !== 0)
    return { chips, perHost: chips, hosts: 1 };
  return { chips, perHost, hosts: chips / perHost };
}

/**
 * A TPU job as placement counts it: each pod asks for the chips of one host
 * (`resources.tpu`), and a slice of more than one host is a gang of one pod per host
 * (`podSets`), admitted only when every host's pod is placed. A multi-pod job (`parallelism`)
 * on a single-host slice is a gang whose every pod asks for that host's chips, so no two of its
 * pods share a host; its `resources` hold the sum. Jobs without a TPU are returned as they are.
 */
export function withTpuRequest<J extends TpuJob>(job: J, nodes: readonly NodeState[]): J {
  if (job.tpu === undefined) return job;
  const layout = sliceLayout(job.tpu, nodes);
  if (layout.hosts === 1) {
    if (job.podSets === undefined)
      return { ...job, resources: { ...job.resources, tpu: layout.perHost } };
    const podSets = job.podSets.map((set) => ({
      ...set,
      resources: { ...set.resources, tpu: layout.perHost },
    }));
    const pods = podSets.reduce((n, set) => n + set.count, 0);
    return { ...job, resources: { ...job.resources, tpu: layout.perHost * pods }, podSets };
  }
  // A job stored as its slices' pods (one set: `slices` × hosts pods, one per host) holds their
  // sum in `resources`; each slice's hosts go on one node pool (`PodSet.slices`, gang.ts).
  const stored = job.podSets?.length === 1 ? (job.podSets[0] as PodSet) : undefined;
  const pod = stored ? stored.resources : job.resources;
  const slices = stored?.slices ?? 1;
  const resources = { ...pod, tpu: layout.perHost };
  const podSets: PodSet[] = [
    { name: stored?.name ?? 'slice', count: layout.hosts * slices, resources, slices },
  ];
  return { ...job, resources, podSets };
}

/** The node pool a node belongs to for slice placement; nodes without a pool label share one. */
export function poolOf(node: Pick<NodeState, 'pool'>): string {
  return node.pool ?? '';
}

/**
 * How many node pools can each hold a whole slice of `hosts` hosts for `pod` (its slice's
 * labels, its selector and tolerations): pools with at least that many accepting nodes. Every
 * node counts, cordoned and NotReady included, since they can come back.
 */
export function slicePoolCount(
  pod: JobPlacement,
  hosts: number,
  nodes: readonly NodeState[],
): number {
  const perPool = new Map<string, number>();
  for (const node of nodes) {
    if (!nodeAccepts(pod, node, { ignoreConditionTaints: true })) continue;
    perPool.set(poolOf(node), (perPool.get(poolOf(node)) ?? 0) + 1);
  }
  let pools = 0;
  for (const count of perPool.values()) if (count >= hosts) pools += 1;
  return pools;
}

/**
 * The job's slices can never all run: each slice takes a node pool of its own and the cluster
 * has fewer pools that hold one than the job has slices ("needs 2 slices of
 * tpu-v5-lite-podslice 4x4, the cluster has 1"). Empty when no node carries the slice at all
 * (the "no node matches" reason says so) or when there are pools enough.
 */
export function slicesNeverFit(
  pod: JobPlacement,
  set: Pick<PodSet, 'count' | 'slices'>,
  nodes: readonly NodeState[],
): NeverFitsReason[] {
  const slices = set.slices;
  const tpu = pod.tpu;
  if (slices === undefined || slices < 1 || tpu === undefined) return [];
  if (!nodes.some((node) => carriesSlice(node, tpu))) return [];
  const pools = slicePoolCount(pod, Math.ceil(set.count / slices), nodes);
  if (pools >= slices) return [];
  return [
    {
      kind: 'noMatchingNode',
      message: `needs ${slices} ${slices === 1 ? 'slice' : 'slices'} of ${tpu.type} ${tpu.topology}, the cluster has ${pools} (each slice runs on a node pool of its own)`,
    },
  ];
}

/** `withTpuRequest` over a list; the same array when none of its jobs asks for a TPU. */
export function withTpuRequests<J extends TpuJob>(
  jobs: readonly J[],
  nodes: readonly NodeState[],
): readonly J[] {
  if (!jobs.some((job) => job.tpu !== undefined)) return jobs;
  return jobs.map((job) => withTpuRequest(job, nodes));
}
