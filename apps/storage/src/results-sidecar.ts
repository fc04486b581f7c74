import { NO_RESULTS_MESSAGE, RESULTS_CONTAINER } from '@roam/object-store';

/** The part of a pod's status that says how its native sidecars ended. */
export interface SidecarStatuses {
  status?: {
    initContainerStatuses?: { name: string; state?: { terminated?: { message?: string } } }[];
  };
}

/**
 * The pod's results sidecar ended saying it uploaded nothing (`NO_RESULTS_MESSAGE` as its
 * termination message). False when it said anything else or nothing (an older sidecar, a pod
 * that is gone): the caller then asks the store.
 */
export function leftNoResults(pod: SidecarStatuses | undefined): boolean {
  const sidecar = pod?.status?.initContainerStatuses?.find((c) => c.name === RESULTS_CONTAINER);
  return sidecar?.state?.terminated?.message?.trim() === NO_RESULTS_MESSAGE;
}

/**
 * Every pod of the attempt ended saying it uploaded nothing. One pod is not enough: the hosts
 * of a multi-host TPU slice share one upload, and any of them may be the one that made it.
 */
export function attemptLeftNoResults(pods: readonly SidecarStatuses[] | undefined): boolean {
  return pods !== undefined && pods.length > 0 && pods.every(leftNoResults);
}
