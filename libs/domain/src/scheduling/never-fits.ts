import { nodeAccepts, type JobPlacement } from './nodes.js';
import {
  fits,
  formatAmount,
  formatResources,
  type QuotaResource,
  RESOURCE_NAMES,
  resourceLabel,
  type ResourceName,
  type Resources,
} from './resources.js';
import type { NodeState, TenantLimits } from './snapshot.js';

/**
 * Why a job can never run here, whatever else finishes. Each carries the numbers, so the
 * gateway can answer a submit with a 422 that says what to change.
 */
export type NeverFitsReason =
  /** Larger than the tenant's whole quota in one dimension. */
  | { kind: 'quota'; resource: QuotaResource; requested: number; limit: number; message: string }
  /** The tenant may not run any job at all. */
  | { kind: 'concurrency'; limit: number; message: string }
  /** Larger in one dimension than the allocatable of every node that accepts the job. */
  | {
      kind: 'node';
      resource: ResourceName;
      requested: number;
      largest: { node: string; allocatable: number };
      message: string;
    }
  /** Each dimension fits some node, but no single node has all of them. */
  | { kind: 'noSingleNode'; requested: Resources; message: string }
  /** No node has the labels and taints the job's pod accepts. */
  | { kind: 'noMatchingNode'; message: string };

export interface PlacementConstraints {
  nodeSelector?: Readonly<Record<string, string>>;
  tolerations?: JobPlacement['tolerations'];
  gpuType?: JobPlacement['gpuType'];
  capacity?: JobPlacement['capacity'];
  tpu?: JobPlacement['tpu'];
}

/**
 * The reasons a job with these requests can never run; empty when it may. Every node counts,
 * cordoned or NotReady ones included, because they can come back. With no nodes at all nothing
 * is reported about nodes: an empty (scaled-to-zero) cluster says nothing about what fits.
 */
export function neverFits(
  resources: Resources,
  tenantLimits: TenantLimits,
  nodes: readonly NodeState[],
  constraints: PlacementConstraints = {},
): NeverFitsReason[] {
  const reasons: NeverFitsReason[] = [];
  if (tenantLimits.maxConcurrentJobs <= 0) {
    reasons.push({
      kind: 'concurrency',
      limit: tenantLimits.maxConcurrentJobs,
      message: `the tenant's concurrency limit is ${tenantLimits.maxConcurrentJobs}, so it cannot run any job`,
    });
  }
  for (const r of RESOURCE_NAMES) {
    if (resources[r] > tenantLimits[r]) {
      reasons.push({
        kind: 'quota',
        resource: r,
        requested: resources[r],
        limit: tenantLimits[r],
        message: `requests ${formatAmount(r, resources[r])} but the tenant's whole ${resourceLabel(r)} quota is ${formatAmount(r, tenantLimits[r])}`,
      });
    }
  }
  if (nodes.length === 0) return reasons;

  const job: JobPlacement = { resources, ...constraints };
  const accepting = nodes.filter((n) => nodeAccepts(job, n, { ignoreConditionTaints: true }));
  if (accepting.length === 0) {
    const flavor = [
      job.gpuType !== undefined ? `GPU type ${job.gpuType}` : '',
      job.tpu !== undefined ? `TPU type ${job.tpu.type} with topology ${job.tpu.topology}` : '',
      job.capacity === 'spot' || job.capacity === 'on-demand' ? `${job.capacity} capacity` : '',
    ].filter(Boolean);
    reasons.push({
      kind: 'noMatchingNode',
      message: `no node matches the job's ${flavor.length > 0 ? `${flavor.join(', ')}, ` : ''}node selector and tolerations (${nodes.length} nodes checked)`,
    });
    return reasons;
  }
  if (accepting.some((n) => fits(resources, n.allocatable))) return reasons;

  let tooBigSomewhere = false;
  for (const r of RESOURCE_NAMES) {
    const largest = accepting.reduce((best, n) =>
      n.allocatable[r] > best.allocatable[r] ||
      (n.allocatable[r] === best.allocatable[r] && n.name < best.name)
        ? n
        : best,
    );
    if (resources[r] > largest.allocatable[r]) {
      tooBigSomewhere = true;
      reasons.push({
        kind: 'node',
        resource: r,
        requested: resources[r],
        largest: { node: largest.name, allocatable: largest.allocatable[r] },
        message:
          largest.allocatable[r] === 0
            ? `requests ${formatAmount(r, resources[r])} but no node has any ${resourceLabel(r)}`
            : `requests ${formatAmount(r, resources[r])} but the largest node (${largest.name}) has ${formatAmount(r, largest.allocatable[r])} allocatable`,
      });
    }
  }
  if (!tooBigSomewhere) {
    reasons.push({
      kind: 'noSingleNode',
      requested: resources,
      message: `requests ${formatResources(resources)}, which no single node has allocatable`,
    });
  }
  return reasons;
}
