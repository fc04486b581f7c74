import type { JobSpec } from '@roam/contracts';
import type { ObjectStore } from '@roam/object-store';
import { type FieldError, ProblemError } from '@roam/runtime';

export const dependencyInputsProblem = 'https://roam.dev/problems/dependency-inputs-unavailable';

/**
 * Why a spec's `inputs_from_dependencies` could not be honoured here, or undefined when it can
 * (or is not asked for). The dependencies' results reach a job as presigned GETs from object
 * storage, fetched by an init container of its Kubernetes Job (docs/pipelines.md): so only with
 * an S3 store, and never on RunPod, whose runs get no such container.
 */
export function dependencyInputsIssue(
  spec: Pick<JobSpec, 'inputs_from_dependencies' | 'offload'>,
  store: ObjectStore['kind'] | null,
): string | undefined {
  if (spec.inputs_from_dependencies !== true) return undefined;
  if (store === 'pvc')
    return "this roam keeps results on tenant volumes (PVC mode, RESULTS_PVC_ROOT), and a job's pod mounts only its own results there: dependencies' results can only be given with object storage (S3_ENDPOINT)";
  if (store === null)
    return "this roam keeps no results (no S3_ENDPOINT, no RESULTS_PVC_ROOT), so there are no dependencies' results to give";
  if (spec.offload !== 'never')
    return `a job that may run on RunPod (offload: ${spec.offload}) would run there without its dependencies' results; submit it with offload: never`;
  return undefined;
}

/** 422 naming why, when `dependencyInputsIssue` finds one; `path` locates the field. */
export function assertDependencyInputs(
  spec: Pick<JobSpec, 'inputs_from_dependencies' | 'offload'>,
  store: ObjectStore['kind'] | null,
  path = 'inputs_from_dependencies',
): void {
  const issue = dependencyInputsIssue(spec, store);
  if (issue === undefined) return;
  const errors: FieldError[] = [{ path, message: issue }];
  throw new ProblemError(
    422,
    dependencyInputsProblem,
    "Dependencies' results cannot be given",
    `${path}: ${issue}`,
    { errors },
  );
}
