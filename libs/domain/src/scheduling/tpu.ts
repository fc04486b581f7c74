import { GKE_LABELS, topologyChips } from '../failover/preflight.js';
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
  // A job stored as its slice's pods (one set, one pod per host) holds their sum in `resources`.
  const pod = job.podSets?.length === 1 ? (job.podSets[0] as PodSet).resources : job.resources;
  const resources = { ...pod, tpu: layout.perHost };
  const podSets: PodSet[] = [{ name: 'slice', count: layout.hosts, resources }];
  return { ...job, resources, podSets };
}

/** `withTpuRequest` over a list; the same array when none of its jobs asks for a TPU. */
export function withTpuRequests<J extends TpuJob>(
  jobs: readonly J[],
  nodes: readonly NodeState[],
): readonly J[] {
  if (!jobs.some((job) => job.tpu !== undefined)) return jobs;
  return jobs.map((job) => withTpuRequest(job, nodes));
}
