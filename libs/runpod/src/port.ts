/**
 * The RunPod port: what the offload worker needs from RunPod, nothing more. Shapes follow
 * RunPod's public REST API v1 (`https://rest.runpod.io/v1`, OpenAPI "Runpod API" 0.1.0:
 * `POST /pods`, `GET /pods`, `GET /pods/{podId}`, `DELETE /pods/{podId}`) and, for the
 * GPU catalogue with prices, the GraphQL API (`https://api.runpod.io/graphql`, query
 * `gpuTypes { id displayName memoryInGb securePrice communityPrice }`), which REST v1 does
 * not offer. Prices are USD per GPU per hour.
 */

export type CloudType = 'SECURE' | 'COMMUNITY';

/** One GPU type RunPod rents, with where it is in stock. */
export interface GpuType {
  /** RunPod's id, e.g. "NVIDIA GeForce RTX 4090" (also what `gpuTypeIds` takes). */
  id: string;
  displayName: string;
  memoryInGb: number;
  /** USD per GPU-hour in the secure cloud; null when not offered there. */
  securePrice: number | null;
  /** USD per GPU-hour in the community cloud; null when not offered there. */
  communityPrice: number | null;
  /** Data centres that have this type, with how many GPUs are free (0 = out of stock). */
  dataCenters: Array<{ id: string; available: number }>;
}

/** `POST /pods` body (REST v1 `PodCreateInput`, the fields roam uses). */
export interface CreatePodInput {
  /** roam names pods `roam-offload-<offloadId>`: the name is the tag orphan sweeps look for. */
  name: string;
  imageName: string;
  /** Overrides the image's ENTRYPOINT (a Kubernetes container's `command`). */
  dockerEntrypoint?: string[];
  /** Overrides the image's CMD (a Kubernetes container's `args`). */
  dockerStartCmd?: string[];
  env?: Record<string, string>;
  /** `"8080/http"`, `"22/tcp"`. */
  ports?: string[];
  containerDiskInGb?: number;
  gpuTypeIds: string[];
  gpuCount: number;
  dataCenterIds?: string[];
  cloudType?: CloudType;
  /** roam pods are batch work: on exit they stop instead of restarting. */
  restartPolicy?: 'Never';
}

/** REST v1 `desiredStatus`. EXITED = the container ended; TERMINATED = gone for good. */
export type PodStatus = 'RUNNING' | 'EXITED' | 'TERMINATED';

/** `GET /pods/{podId}` (REST v1 `Pod`, the fields roam reads). */
export interface RunPodPod {
  id: string;
  name: string;
  desiredStatus: PodStatus;
  imageName: string;
  gpuTypeId?: string;
  gpuCount: number;
  costPerHr: number;
  dataCenterId?: string;
  env: Record<string, string>;
  lastStartedAt?: string;
  /** e.g. "Exited with code 1"; RunPod reports the end of a container here. */
  lastStatusChange?: string;
  /** Container exit code when EXITED. Not in RunPod's v1 schema: parsed from `lastStatusChange` when absent. */
  exitCode?: number;
}

/** A RunPod call failed with this status; `retryable` for 429 and 5xx (already retried). */
/** A RunPod call that got no (complete) answer within its time budget. */
export class RunPodTimeout extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`RunPod ${what}: no answer within ${timeoutMs} ms`);
    this.name = 'RunPodTimeout';
  }
}

export class RunPodError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'RunPodError';
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  /** No machine with the asked GPU type free (RunPod answers such creates with a 4xx). */
  get outOfCapacity(): boolean {
    return (
      this.status === 409 ||
      /no (longer any )?instances? (currently )?available|capacity/i.test(this.message)
    );
  }
}

/** Defined where it is consumed (the offload worker); the HTTP client and tests implement it. */
export interface RunPod {
  gpuTypes(): Promise<GpuType[]>;
  createPod(input: CreatePodInput): Promise<RunPodPod>;
  /** undefined when RunPod does not know the pod (terminated long ago, or never created). */
  getPod(id: string): Promise<RunPodPod | undefined>;
  /** Every pod of the account, optionally only those whose name starts with `namePrefix`. */
  listPods(namePrefix?: string): Promise<RunPodPod[]>;
  /** Idempotent: terminating a pod that is gone is not an error. */
  terminatePod(id: string): Promise<void>;
  /** The container's log so far (the simulator serves it; real RunPod streams it in v2). */
  logs(id: string): Promise<string>;
}

/** The exit code of an EXITED pod: the field when present, else parsed from `lastStatusChange`. */
export function exitCodeOf(pod: RunPodPod): number | undefined {
  if (pod.exitCode !== undefined) return pod.exitCode;
  const match = /exit(?:ed)?(?: with)? code:? ?(-?\d+)/i.exec(pod.lastStatusChange ?? '');
  return match ? Number(match[1]) : undefined;
}
