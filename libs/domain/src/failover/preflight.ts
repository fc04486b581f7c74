import type { FailoverRequest, NodeFacts } from './types.js';

export const GKE_LABELS = {
  nodePool: 'cloud.google.com/gke-nodepool',
  acceleratorCount: 'cloud.google.com/gke-accelerator-count',
  tpuTopology: 'cloud.google.com/gke-tpu-topology',
} as const;

export type PreflightResult =
  | { ok: true; checked: boolean; expected?: number; found: number; source?: string }
  | { ok: false; expected?: number; found: number; message: string };

/** Chips in a TPU topology: `8x8x8` → 512, `2x4` → 8; undefined when it is not one. */
export function topologyChips(topology: string): number | undefined {
  if (!/^\d+(x\d+)*$/.test(topology)) return undefined;
  return topology.split('x').reduce((product, side) => product * Number(side), 1);
}

/**
 * Nodes a TPU slice needs: chips in its topology ÷ accelerators per node. The pool's nodes must
 * agree on both labels; a pool whose nodes disagree (or lack them) has no derivable count.
 */
export function expectedNodesFromLabels(
  nodes: readonly NodeFacts[],
): { expected: number; topology: string; perNode: number } | { error: string } {
  if (nodes.length === 0) return { error: 'the pool has no nodes to read its topology from' };
  const topologies = new Set(nodes.map((n) => n.labels[GKE_LABELS.tpuTopology] ?? ''));
  const counts = new Set(nodes.map((n) => n.labels[GKE_LABELS.acceleratorCount] ?? ''));
  if (topologies.size > 1 || counts.size > 1)
    return {
      error: `the pool's nodes disagree on ${GKE_LABELS.tpuTopology} (${[...topologies].join(', ')}) or ${GKE_LABELS.acceleratorCount} (${[...counts].join(', ')})`,
    };
  const [topology = ''] = topologies;
  const [countLabel = ''] = counts;
  const chips = topologyChips(topology);
  if (chips === undefined)
    return { error: `the pool's nodes have no usable ${GKE_LABELS.tpuTopology} label` };
  const perNode = Number(countLabel);
  if (!Number.isInteger(perNode) || perNode <= 0)
    return { error: `the pool's nodes have no usable ${GKE_LABELS.acceleratorCount} label` };
  if (chips % perNode !== 0)
    return {
      error: `topology ${topology} (${chips} chips) is not a whole number of ${perNode}-chip nodes`,
    };
  return { expected: chips / perNode, topology, perNode };
}

/**
 * The failover controller's preflight: refuse to act on a pool that does not have the node count its TPU
 * slice needs (a pool already missing nodes is being repaired by someone else, or is not the
 * pool the caller thinks). Says what was expected and what was found.
 */
export function preflight(request: FailoverRequest, nodes: readonly NodeFacts[]): PreflightResult {
  const found = nodes.length;
  const pool = request.nodePool ?? '?';
  if (request.expectedNodeCount === false) return { ok: true, checked: false, found };
  if (typeof request.expectedNodeCount === 'number') {
    const expected = request.expectedNodeCount;
    return expected === found
      ? { ok: true, checked: true, expected, found, source: 'request' }
      : {
          ok: false,
          expected,
          found,
          message: `preflight failed: node pool ${pool} has ${found} nodes, expected ${expected} (from preflight_checks.expected_node_counts)`,
        };
  }
  const derived = expectedNodesFromLabels(nodes);
  if ('error' in derived)
    return {
      ok: false,
      found,
      message: `preflight failed: cannot derive the expected node count of node pool ${pool}: ${derived.error}`,
    };
  const { expected, topology, perNode } = derived;
  const source = `topology ${topology} = ${expected * perNode} chips / ${perNode} per node`;
  return expected === found
    ? { ok: true, checked: true, expected, found, source }
    : {
        ok: false,
        expected,
        found,
        message: `preflight failed: node pool ${pool} has ${found} nodes, expected ${expected} (${source})`,
      };
}
