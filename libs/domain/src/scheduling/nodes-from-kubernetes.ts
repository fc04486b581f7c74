import { cpuMillis, memoryBytes } from '../quantity.js';
import { add, ZERO, type Resources } from './resources.js';
import type { NodeState, Taint } from './snapshot.js';

/*
 * The few fields of v1 Node and v1 Pod that node capacity depends on, typed minimally so plain
 * JSON from a list or watch and @kubernetes/client-node objects both fit.
 */

export interface NodeJson {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

export interface PodJson {
  spec?: {
    nodeName?: string;
    containers?: { resources?: { requests?: Record<string, string> } }[];
  };
  status?: { phase?: string };
}

/** Labels that name a node's pool (the failover unit), in order of precedence. */
export const POOL_LABELS: readonly string[] = [
  'cloud.google.com/gke-nodepool',
  'roam.dev/pool',
  'karpenter.sh/nodepool',
];

const GPU = 'nvidia.com/gpu';
const TPU = 'google.com/tpu';

/** `{ tpu }` when the quantity is there, `{}` otherwise: nodes and pods without TPUs omit it. */
function tpuOf(list: Record<string, string>): Pick<Resources, 'tpu'> {
  return list[TPU] === undefined ? {} : { tpu: quantity(Number, list[TPU]) };
}

/** A quantity that is absent or unparseable counts as 0, so one odd object cannot stop a cycle. */
function quantity(parse: (value: string) => number, value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    return parse(value);
  } catch {
    return 0;
  }
}

/** `allocatable.pods`; undefined (no limit) when absent or not a whole number. */
function podLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The sum of a pod's container requests (init containers and overhead are not counted). */
export function podRequests(pod: PodJson): Resources {
  let requested: Resources = { ...ZERO };
  for (const container of pod.spec?.containers ?? []) {
    const requests = container.resources?.requests ?? {};
    requested = add(requested, {
      cpuMillis: quantity(cpuMillis, requests.cpu),
      memoryBytes: quantity(memoryBytes, requests.memory),
      gpu: quantity(Number, requests[GPU]),
      ...tpuOf(requests),
    });
  }
  return requested;
}

/** A pod holds its requests on a node once bound (`nodeName`) and until it has finished. */
export function holdsNode(pod: PodJson): pod is PodJson & { spec: { nodeName: string } } {
  const phase = pod.status?.phase;
  return !!pod.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * Nodes as admission sees them, each with the sum of what every bound, unfinished pod on it
 * requests (roam's or not) and how many such pods it holds against its `allocatable.pods`.
 * Every node is kept, cordoned and NotReady ones too: the decision reads `schedulable` and
 * `ready` itself.
 */
export function nodeStatesFromKubernetes(
  nodes: readonly NodeJson[],
  pods: readonly PodJson[],
): NodeState[] {
  const requested = new Map<string, Resources>();
  const bound = new Map<string, number>();
  for (const pod of pods) {
    if (!holdsNode(pod)) continue;
    const node = pod.spec.nodeName;
    requested.set(node, add(requested.get(node) ?? ZERO, podRequests(pod)));
    bound.set(node, (bound.get(node) ?? 0) + 1);
  }
  return nodes.map((node) => {
    const name = node.metadata?.name ?? '';
    const labels = node.metadata?.labels ?? {};
    const allocatable = node.status?.allocatable ?? {};
    const pool = POOL_LABELS.map((label) => labels[label]).find((value) => value !== undefined);
    const podSlots = podLimit(allocatable.pods);
    return {
      name,
      ...(pool ? { pool } : {}),
      allocatable: {
        cpuMillis: quantity(cpuMillis, allocatable.cpu),
        memoryBytes: quantity(memoryBytes, allocatable.memory),
        gpu: quantity(Number, allocatable[GPU]),
        ...tpuOf(allocatable),
      },
      requested: requested.get(name) ?? { ...ZERO },
      ...(podSlots === undefined
        ? {}
        : { pods: { allocatable: podSlots, used: bound.get(name) ?? 0 } }),
      schedulable: node.spec?.unschedulable !== true,
      ready: (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      labels,
      taints: node.spec?.taints ?? [],
    };
  });
}
