// Builders for failover specs: `tpuNodes('p', 4, '2x2x4')`, `request({ type: 'repair_nodepool' })`.
import { GKE_LABELS } from './preflight.js';
import { JOBSET_POD_LABELS } from './plan.js';
import type { FailoverRequest, NodeFacts, PodFacts } from './types.js';

export function tpuNodes(
  pool: string,
  count: number,
  topology = '2x2x4',
  perNode = 4,
): NodeFacts[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${pool}-${i}`,
    labels: {
      [GKE_LABELS.nodePool]: pool,
      [GKE_LABELS.tpuTopology]: topology,
      [GKE_LABELS.acceleratorCount]: String(perNode),
    },
    unschedulable: false,
    ready: true,
  }));
}

export function request(overrides: Partial<FailoverRequest> = {}): FailoverRequest {
  return {
    type: 'cordon_nodepool',
    nodePool: 'tpu',
    namespace: 'default',
    jobsetName: null,
    nodeName: null,
    expectedNodeCount: true,
    ...overrides,
  };
}

export function pod(
  name: string,
  node: string | null,
  labels: Record<string, string> = {},
  phase = 'Running',
): PodFacts {
  return { namespace: 'default', name, uid: `uid-${name}`, node, phase, labels };
}

export function jobsetPod(
  jobset: string,
  replicatedJob: string,
  jobIndex: number,
  attempt: number,
  node: string,
  phase = 'Running',
): PodFacts {
  return pod(
    `${jobset}-${replicatedJob}-${jobIndex}-0-a${attempt}`,
    node,
    {
      [JOBSET_POD_LABELS.name]: jobset,
      [JOBSET_POD_LABELS.replicatedJob]: replicatedJob,
      [JOBSET_POD_LABELS.jobIndex]: String(jobIndex),
      [JOBSET_POD_LABELS.restartAttempt]: String(attempt),
      [JOBSET_POD_LABELS.completionIndex]: '0',
    },
    phase,
  );
}
