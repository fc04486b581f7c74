/** Node-pool failover actions, as the failover worker and the gateway understand them. */
export type FailoverActionType =
  | 'cordon_nodepool'
  | 'cordon_nodepool_and_restart_jobset'
  | 'cordon_and_repair_nodepool'
  | 'repair_nodepool'
  | 'uncordon_nodepool';

/** The request fields a plan depends on (the gateway's body, camel-cased). */
export interface FailoverRequest {
  type: FailoverActionType;
  nodePool: string | null;
  namespace: string;
  jobsetName: string | null;
  nodeName: string | null;
  /**
   * the failover controller `preflight_checks.expected_node_counts`: `true` derives the count from the nodes'
   * TPU topology and accelerator-count labels, a number states it, false/absent skips the check.
   */
  expectedNodeCount: boolean | number;
}

/** What the plan needs to know about one node. */
export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  unschedulable: boolean;
  ready: boolean;
}

export interface PodFacts {
  namespace: string;
  name: string;
  uid: string;
  node: string | null;
  phase: string;
  labels: Record<string, string>;
}

export interface RoamJobFacts {
  jobId: string;
  tenantId: string;
  name: string;
  status: string;
  node: string;
}

export interface JobSetFacts {
  namespace: string;
  name: string;
  /** `status.restarts`: the leader of the current attempt carries it as a label. */
  restarts: number;
  /** Replicated jobs in spec order; the leader belongs to the first. */
  replicatedJobs: string[];
  finished: boolean;
}

/** One managed instance of the pool's instance group, as the cloud reports it. */
export interface InstanceFacts {
  name: string;
  zone: string;
  id: string;
  group: string;
  status: string;
}

/** An immutable picture of the world, read before deciding. */
export interface FailoverSnapshot {
  nodes: NodeFacts[];
  /** Pods on the pool's nodes, plus (for a restart) the JobSet's pods wherever they run. */
  pods: PodFacts[];
  roamJobs: RoamJobFacts[];
  jobset?: JobSetFacts;
  /** Only read for repairs; undefined otherwise. */
  instances?: InstanceFacts[];
}
