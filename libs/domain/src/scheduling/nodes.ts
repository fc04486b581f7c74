import { add, fits, RESOURCE_NAMES, subtract, ZERO, type Resources } from './resources.js';
import type { NodeState, PendingJob, PodSet, Taint, Toleration } from './snapshot.js';
import { carriesSlice, poolOf, withTpuRequest } from './tpu.js';

/** What placement looks at in a job: its requests and the node constraints of its pod. */
export type JobPlacement = Pick<
  PendingJob,
  'resources' | 'nodeSelector' | 'tolerations' | 'gpuType' | 'capacity' | 'tpu'
>;

/** GKE's node labels for the accelerator type and for spot capacity (value `"true"`). */
export const GKE_ACCELERATOR_LABEL = 'cloud.google.com/gke-accelerator';
export const GKE_SPOT_LABEL = 'cloud.google.com/gke-spot';

type Flavor = Pick<PendingJob, 'gpuType' | 'capacity' | 'tpu'>;

/** True when the job names a flavor (accelerator type, TPU slice or spot/on-demand capacity). */
export function hasFlavor(job: Flavor): boolean {
  return (
    job.gpuType !== undefined ||
    job.tpu !== undefined ||
    (job.capacity !== undefined && job.capacity !== 'any')
  );
}

/**
 * The node is of the job's flavor: its accelerator type or TPU slice, its kind of capacity. A
 * `prefer-spot` job accepts both kinds; admission tries its spot variant first.
 */
export function flavorMatches(job: Flavor, node: Pick<NodeState, 'labels'>): boolean {
  if (job.gpuType !== undefined && node.labels[GKE_ACCELERATOR_LABEL] !== job.gpuType) return false;
  if (job.tpu !== undefined && !carriesSlice(node, job.tpu)) return false;
  const spot = node.labels[GKE_SPOT_LABEL] === 'true';
  if (job.capacity === 'spot') return spot;
  if (job.capacity === 'on-demand') return !spot;
  return true;
}

/**
 * The taint GPU node pools carry. A job that requests GPUs tolerates it implicitly, as the
 * ExtendedResourceToleration admission plugin (and roam's pod template) make it do.
 */
export const GPU_TAINT_KEY = 'nvidia.com/gpu';
/** The taint GKE puts on TPU nodes; a TPU job tolerates it implicitly, as GKE makes it do. */
export const TPU_TAINT_KEY = 'google.com/tpu';
/** The extended resource TPU nodes offer, one per chip. */
export const TPU_RESOURCE = 'google.com/tpu';

/**
 * Taints Kubernetes derives from node conditions (not-ready, unreachable, unschedulable,
 * pressure). They come and go with the condition, so "could this job *ever* fit" ignores them;
 * "does it fit *now*" honours them.
 */
const CONDITION_TAINT_PREFIXES = ['node.kubernetes.io/', 'node.cloudprovider.kubernetes.io/'];

function tolerationMatches(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if ((toleration.operator ?? 'Equal') === 'Exists') {
    return !toleration.key || toleration.key === taint.key;
  }
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

export function toleratesTaint(job: JobPlacement, taint: Taint): boolean {
  if (taint.effect === 'PreferNoSchedule') return true; // soft: never blocks placement
  if (taint.key === GPU_TAINT_KEY && job.resources.gpu > 0) return true;
  if (taint.key === TPU_TAINT_KEY && job.tpu !== undefined) return true;
  return (job.tolerations ?? []).some((t) => tolerationMatches(t, taint));
}

/** Flavor, labels and taints allow the job's pod on the node (resources aside). */
export function nodeAccepts(
  job: JobPlacement,
  node: NodeState,
  opts: { ignoreConditionTaints?: boolean } = {},
): boolean {
  if (hasFlavor(job) && !flavorMatches(job, node)) return false;
  if (node.taints.length === 0 && !job.nodeSelector) return true; // the common case, kept cheap
  for (const [key, value] of Object.entries(job.nodeSelector ?? {})) {
    if (node.labels[key] !== value) return false;
  }
  return node.taints.every(
    (taint) =>
      (opts.ignoreConditionTaints === true &&
        CONDITION_TAINT_PREFIXES.some((p) => taint.key.startsWith(p))) ||
      toleratesTaint(job, taint),
  );
}

/** Ready and not cordoned: the only nodes roam places work on. */
export function isUsable(node: NodeState): boolean {
  return node.ready && node.schedulable;
}

export function freeOn(node: NodeState): Resources {
  return subtract(node.allocatable, node.requested);
}

/** Pods the node can still take (`allocatable.pods` minus pods on it); Infinity if unlimited. */
export function freePodSlots(node: NodeState): number {
  return node.pods ? Math.max(0, node.pods.allocatable - node.pods.used) : Infinity;
}

/** Total allocatable of usable nodes: the denominator of every fair share. */
export function clusterCapacity(nodes: readonly NodeState[]): Resources {
  return nodes.filter(isUsable).reduce((sum, n) => add(sum, n.allocatable), { ...ZERO });
}

/**
 * How far a node is from fitting `request`: the largest missing fraction of its allocatable over
 * all dimensions, its pod slots included (0 = fits now). Used to pick the node a starving job
 * reserves and the "best node" explain() reports: the one that needs the least to drain.
 */
export function deficit(
  request: Resources,
  free: Resources,
  allocatable: Resources,
  pods?: { free: number; allocatable: number },
): number {
  let worst = 0;
  for (const r of RESOURCE_NAMES) {
    const missing = request[r] - free[r];
    if (missing > 0) worst = Math.max(worst, allocatable[r] > 0 ? missing / allocatable[r] : 1);
  }
  const missingTpu = (request.tpu ?? 0) - (free.tpu ?? 0);
  if (missingTpu > 0) {
    const chips = allocatable.tpu ?? 0;
    worst = Math.max(worst, chips > 0 ? missingTpu / chips : 1);
  }
  if (pods && pods.free < 1)
    worst = Math.max(worst, pods.allocatable > 0 ? 1 / pods.allocatable : 1);
  return worst;
}

/** Nodes whose allocatable could hold the job at all (any readiness), by name. */
export function nodesThatCouldFit(job: JobPlacement, nodes: readonly NodeState[]): NodeState[] {
  return nodes
    .filter((n) => nodeAccepts(job, n, { ignoreConditionTaints: true }))
    .filter((n) => fits(job.resources, n.allocatable))
    .sort((a, b) => compareStrings(a.name, b.name));
}

/** Code-unit order, independent of locale, so decisions do not depend on the host. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The sets in the order their pods are placed: largest pods first (GPUs, then CPU, then
 * memory, then the set's name), first-fit decreasing, so small pods do not take the room a
 * large one needs. Empty sets are left out.
 */
export function placementOrder(sets: readonly PodSet[]): PodSet[] {
  return sets
    .filter((set) => set.count > 0)
    .sort(
      (a, b) =>
        b.resources.gpu - a.resources.gpu ||
        b.resources.cpuMillis - a.resources.cpuMillis ||
        b.resources.memoryBytes - a.resources.memoryBytes ||
        compareStrings(a.name, b.name),
    );
}

/**
 * One pod of a set, as placement sees it: the set's requests and the job's node constraints.
 * The job's GPU type binds only the pods that ask for GPUs, so a JobSet's CPU driver is not
 * sent to (or kept off by the taint of) an accelerator node.
 */
export function podOf<J extends JobPlacement & Pick<PendingJob, 'podSets'>>(
  job: J,
  set: Pick<PodSet, 'resources'>,
): J {
  const pod: J = { ...job, resources: set.resources };
  delete pod.podSets;
  if (set.resources.gpu === 0) delete pod.gpuType;
  return pod;
}

/**
 * The nodes with the requests and pod slots of admitted jobs whose pods are not on a node yet
 * added, each placed first-fit (usable nodes by name) the way admission placed it: a gang's
 * pods one by one, largest first (`placementOrder`), each taking a slot. Without them a cycle
 * running before the pods are bound would see their room as free and give it out again. A pod
 * that fits nowhere now (the cluster changed under it) holds nothing: it stays Pending.
 */
export function withAssumed(
  nodes: readonly NodeState[],
  assumed: readonly (JobPlacement & Pick<PendingJob, 'podSets'>)[],
): NodeState[] {
  if (assumed.length === 0) return [...nodes];
  const result = nodes.map((node) => ({ ...node }));
  const order = result.filter(isUsable).sort((a, b) => compareStrings(a.name, b.name));
  const room = (pod: JobPlacement) => (n: NodeState) =>
    nodeAccepts(pod, n) && fits(pod.resources, freeOn(n)) && freePodSlots(n) >= 1;
  const hold = (node: NodeState, pod: JobPlacement) => {
    node.requested = add(node.requested, pod.resources);
    if (node.pods) node.pods = { ...node.pods, used: node.pods.used + 1 };
  };
  for (const assumedJob of assumed) {
    const job = withTpuRequest(assumedJob, nodes);
    const sets = placementOrder(job.podSets ?? []);
    // TPU slices go one per node pool, as admission placed them (gang.ts `placeSlices`).
    const pools = new Set<string>();
    for (const set of sets.length > 0 ? sets : [undefined]) {
      const pod = set ? podOf(job, set) : job;
      if (set?.slices !== undefined && set.slices > 0) {
        assumeSlices(order, pod, set, pools, room(pod), hold);
        continue;
      }
      for (let k = 0; k < (set?.count ?? 1); k++) {
        const node = order.find(room(pod));
        if (node) hold(node, pod);
      }
    }
  }
  return result;
}

/**
 * An admitted job's TPU slices held as admission placed them: each slice's pods on the first
 * pool (by its first node with room) not already holding one of its slices where every host
 * has room, one pod per node. A slice no pool holds now holds nothing (its pods stay Pending).
 */
function assumeSlices(
  order: readonly NodeState[],
  pod: JobPlacement,
  set: PodSet,
  pools: Set<string>,
  hasRoom: (node: NodeState) => boolean,
  hold: (node: NodeState, pod: JobPlacement) => void,
): void {
  const slices = set.slices as number;
  const hosts = Math.ceil(set.count / slices);
  for (let s = 0; s < slices; s++) {
    const byPool = new Map<string, NodeState[]>();
    for (const node of order) {
      const pool = poolOf(node);
      if (pools.has(pool) || !hasRoom(node)) continue;
      const list = byPool.get(pool) ?? [];
      list.push(node);
      byPool.set(pool, list);
    }
    const found = [...byPool].find(([, list]) => list.length >= hosts);
    if (!found) return;
    pools.add(found[0]);
    for (const node of found[1].slice(0, hosts)) hold(node, pod);
  }
}
