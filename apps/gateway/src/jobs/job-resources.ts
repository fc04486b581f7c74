import { gpuCount, gpuTypeOf, type JobSpec } from '@roam/contracts';
import type { OffloadPreference } from '@roam/domain';
import {
  cpuMillis,
  memoryBytes,
  neverFits,
  type NeverFitsReason,
  type NodeState,
  type PlacementConstraints,
  type Resources,
  type TenantLimits,
  withTpuRequest,
} from '@roam/domain';
import { type FieldError, ProblemError, problemTypes } from '@roam/runtime';

export const unschedulableProblem = 'https://roam.dev/problems/unschedulable';

/** The spec's requests in canonical units, or the field errors that stop it (e.g. "1.5.2"). */
export function requestsOf(spec: JobSpec): { resources: Resources } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  let cpu = 0;
  let memory = 0;
  try {
    cpu = cpuMillis(spec.resources.cpu);
  } catch (error) {
    errors.push({ path: 'resources.cpu', message: (error as Error).message });
  }
  try {
    memory = memoryBytes(spec.resources.memory);
  } catch (error) {
    errors.push({ path: 'resources.memory', message: (error as Error).message });
  }
  if (errors.length > 0) return { errors };
  return { resources: { cpuMillis: cpu, memoryBytes: memory, gpu: gpuCount(spec.resources) } };
}

/** 400 for one spec's resources that are not quantities. */
export function requestsOrThrow(spec: JobSpec): Resources {
  const result = requestsOf(spec);
  if ('resources' in result) return result.resources;
  const first = result.errors[0]!;
  throw new ProblemError(
    400,
    problemTypes.validation,
    'Request validation failed',
    `body: ${first.path}: ${first.message}`,
    { errors: result.errors },
  );
}

/** The flavor a spec asks for, as placement reads it: GPU type, TPU slice, kind of capacity. */
export function placementOf(spec: JobSpec): PlacementConstraints {
  const gpuType = gpuTypeOf(spec.resources);
  return {
    ...(gpuType !== undefined ? { gpuType } : {}),
    ...(spec.capacity !== undefined ? { capacity: spec.capacity } : {}),
    ...(spec.resources.tpu !== undefined ? { tpu: spec.resources.tpu } : {}),
  };
}

export const neverFitsView = (reasons: readonly NeverFitsReason[]) =>
  reasons.map((r) => ({ kind: r.kind, message: r.message }));

/** Node-size reasons do not apply to a job RunPod may take; quota and concurrency still do. */
const CLUSTER_ONLY = new Set<NeverFitsReason['kind']>(['node', 'noSingleNode', 'noMatchingNode']);

export function neverRuns(
  resources: Resources,
  limits: TenantLimits,
  nodes: readonly NodeState[],
  offload: OffloadPreference,
  constraints: PlacementConstraints = {},
): NeverFitsReason[] {
  // A TPU job's pods each ask for one host's chips of its slice (tpu.ts).
  const requests = withTpuRequest({ resources, tpu: constraints.tpu }, nodes).resources;
  const reasons = neverFits(requests, limits, nodes, constraints);
  return offload === 'never' ? reasons : reasons.filter((reason) => !CLUSTER_ONLY.has(reason.kind));
}

/**
 * 422 when the job can never run: larger than the tenant's whole quota, or than any node
 * unless it may be offloaded to RunPod. A job that is merely too big *now* is accepted and
 * waits (explain says why).
 */
export function assertCanEverRun(
  resources: Resources,
  limits: TenantLimits,
  nodes: readonly NodeState[],
  offload: OffloadPreference = 'never',
  constraints: PlacementConstraints = {},
): void {
  const reasons = neverRuns(resources, limits, nodes, offload, constraints);
  if (reasons.length === 0) return;
  throw new ProblemError(
    422,
    unschedulableProblem,
    'Job can never run',
    `the job can never run: ${reasons.map((r) => r.message).join('; ')}`,
    { reasons: neverFitsView(reasons) },
  );
}
