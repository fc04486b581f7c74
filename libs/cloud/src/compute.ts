/**
 * The cloud's compute API as the failover worker needs it: the instances behind a node pool,
 * and deleting one so the pool's instance group recreates it. Defined where it is consumed;
 * adapters: `GceCompute` (Compute Engine REST) and `FakeCompute` (tests).
 */
export interface ComputePort {
  listInstances(pool: string): Promise<ComputeInstance[]>;
  /** Deletes the instance through its instance group; a second call for the same one is harmless. */
  deleteInstance(pool: string, instance: ComputeInstance): Promise<DeleteResult>;
}

export interface ComputeInstance {
  /** Instance name; on GKE it is also the Kubernetes node name. */
  name: string;
  zone: string;
  /** Unique per incarnation: a recreated instance keeps its name but gets a new id. */
  id: string;
  /** The managed instance group it belongs to. */
  group: string;
  /** e.g. RUNNING, STOPPING; and `currentAction` (DELETING, RECREATING…) when not NONE. */
  status: string;
}

export interface DeleteResult {
  operation: string;
  status: string;
}

/** A failure of the compute API; `retryable` for timeouts, 429 and 5xx. */
export class ComputeError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ComputeError';
  }
}
