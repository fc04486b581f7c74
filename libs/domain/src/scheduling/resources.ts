import { formatCpu } from '../quantity.js';

/**
 * A request or a capacity in roam's canonical integer units (the same as the `jobs` and
 * `tenants` tables): CPU in millicores, memory in bytes, whole GPUs. Memory is a `number`, not a
 * `bigint`: 2^53 bytes is 8 PiB, far beyond any node or quota, and plain numbers keep the
 * arithmetic readable.
 */
export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
  gpu: number;
  /**
   * TPU chips (`google.com/tpu`); absent is 0. Placement counts them on nodes. A tenant's TPU
   * quota is optional (`TenantState.tpuQuota`), so chips are not one of the dimensions every
   * tenant has (`RESOURCE_NAMES`), but quota messages may name them (`QuotaResource`).
   */
  tpu?: number;
}

/** The dimensions quota, fair share and messages are counted in. */
export type ResourceName = 'cpuMillis' | 'memoryBytes' | 'gpu';

/** What a quota message may be about: the three dimensions, or TPU chips. */
export type QuotaResource = ResourceName | 'tpu';

/** Iteration order for every per-resource loop, so messages are always in the same order. */
export const RESOURCE_NAMES: readonly ResourceName[] = ['cpuMillis', 'memoryBytes', 'gpu'];

export const ZERO: Readonly<Resources> = Object.freeze({ cpuMillis: 0, memoryBytes: 0, gpu: 0 });

export function add(a: Resources, b: Resources): Resources {
  const sum: Resources = {
    cpuMillis: a.cpuMillis + b.cpuMillis,
    memoryBytes: a.memoryBytes + b.memoryBytes,
    gpu: a.gpu + b.gpu,
  };
  // TPU chips only where there are any, so resources without TPUs keep their three fields.
  if (a.tpu !== undefined || b.tpu !== undefined) sum.tpu = (a.tpu ?? 0) + (b.tpu ?? 0);
  return sum;
}

/** `a - b`, never below zero (a node can be over-committed by pods roam does not manage). */
export function subtract(a: Resources, b: Resources): Resources {
  const difference: Resources = {
    cpuMillis: Math.max(0, a.cpuMillis - b.cpuMillis),
    memoryBytes: Math.max(0, a.memoryBytes - b.memoryBytes),
    gpu: Math.max(0, a.gpu - b.gpu),
  };
  if (a.tpu !== undefined || b.tpu !== undefined)
    difference.tpu = Math.max(0, (a.tpu ?? 0) - (b.tpu ?? 0));
  return difference;
}

/** True when every dimension of `request` fits in `available`, TPU chips included. */
export function fits(request: Resources, available: Resources): boolean {
  // Spelled out rather than a loop over RESOURCE_NAMES: admission calls it per node and shape.
  return (
    request.cpuMillis <= available.cpuMillis &&
    request.memoryBytes <= available.memoryBytes &&
    request.gpu <= available.gpu &&
    (request.tpu ?? 0) <= (available.tpu ?? 0)
  );
}

/** True when `a` is at least `b` in every dimension. */
export function covers(a: Resources, b: Resources): boolean {
  return fits(b, a);
}

/** The dimensions in which `request` exceeds `available`. */
export function shortfalls(request: Resources, available: Resources): ResourceName[] {
  return RESOURCE_NAMES.filter((r) => request[r] > available[r]);
}

/**
 * Dominant share (DRF): the largest fraction of the cluster total that `used` takes in any
 * dimension. Dimensions the cluster has none of are skipped, so a tenant is not ranked by GPUs
 * in a cluster without any.
 */
export function dominantShare(used: Resources, total: Resources): number {
  let share = 0;
  for (const r of RESOURCE_NAMES) {
    if (total[r] > 0) share = Math.max(share, used[r] / total[r]);
  }
  return share;
}

/** User-facing name of a dimension, as in a JobSpec (`cpu`, `memory`, `gpu`). */
export function resourceLabel(r: QuotaResource): 'cpu' | 'memory' | 'gpu' | 'tpu' {
  switch (r) {
    case 'tpu':
      return 'tpu';
    case 'cpuMillis':
      return 'cpu';
    case 'memoryBytes':
      return 'memory';
    case 'gpu':
      return 'gpu';
  }
}

const BINARY_UNITS = [
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
] as const;

/**
 * Memory for messages: exact when it is a whole number of some binary unit ("6Gi"), otherwise
 * rounded *up* to two decimals ("1.34Gi"), so a "raise quota to ≥ X" hint is never too small.
 */
export function formatMemoryForHumans(bytes: number): string {
  for (const [suffix, size] of BINARY_UNITS) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  for (const [suffix, size] of BINARY_UNITS) {
    if (bytes >= size) return `${Math.ceil((bytes / size) * 100) / 100}${suffix}`;
  }
  return `${bytes}`;
}

/** One dimension for messages: "2 CPU", "6Gi memory", "4 GPUs", "8 TPU chips". */
export function formatAmount(r: QuotaResource, value: number): string {
  switch (r) {
    case 'tpu':
      return `${value} TPU chip${value === 1 ? '' : 's'}`;
    case 'cpuMillis':
      return `${formatCpu(value)} CPU`;
    case 'memoryBytes':
      return `${formatMemoryForHumans(value)} memory`;
    case 'gpu':
      return `${value} GPU${value === 1 ? '' : 's'}`;
  }
}

/** "2 CPU, 6Gi memory, 1 GPU"; GPUs and TPU chips only when non-zero, since most jobs need none. */
export function formatResources(resources: Resources): string {
  const parts = RESOURCE_NAMES.filter((r) => r !== 'gpu' || resources.gpu > 0).map((r) =>
    formatAmount(r, resources[r]),
  );
  const tpu = resources.tpu ?? 0;
  if (tpu > 0) parts.push(formatAmount('tpu', tpu));
  return parts.join(', ');
}
