// The request bodies of the failover controller's documented curl examples, as written.

/** "Test the API" against the kind cluster's `test-pool`. */
export const KIND_EXAMPLE = {
  requestor: 'test-user',
  type: 'cordon_nodepool_and_restart_jobset',
  jobset_name: 'example-jobset',
  node_pool: 'test-pool',
  preflight_checks: {
    expected_node_counts: false,
  },
  reason: 'High error rate detected in node pool',
};

export const CORDON_NODEPOOL = {
  requestor: 'user@example.com',
  type: 'cordon_nodepool',
  node_pool: 'my-node-pool',
  reason: 'Node pool showing degraded performance',
  preflight_checks: {
    expected_node_counts: true,
  },
};

export const CORDON_AND_RESTART_JOBSET = {
  requestor: 'user@example.com',
  type: 'cordon_nodepool_and_restart_jobset',
  jobset_name: 'my-jobset',
  node_pool: 'my-node-pool',
  reason: 'Node pool showing degraded performance',
  preflight_checks: {
    expected_node_counts: true,
  },
};

export const CORDON_AND_REPAIR = {
  requestor: 'user@example.com',
  type: 'cordon_and_repair_nodepool',
  node_pool: 'my-node-pool',
  reason: 'Node pool showing degraded performance',
  preflight_checks: {
    expected_node_counts: true,
  },
};

export const REPAIR_NODEPOOL = {
  requestor: 'user@example.com',
  type: 'repair_nodepool',
  node_pool: 'my-node-pool',
  reason: 'Node pool showing degraded performance',
  preflight_checks: {
    expected_node_counts: true,
  },
};
