// Public API of @roam/sim: start an embedded simulator, and the types other simulators
// (cloud compute, RunPod) build on.
export { startSimulator, type RunningSimulator } from './simulator.js';
export { type SimOptions, optionsFromEnv } from './config.js';
export {
  Cluster,
  DEFAULT_WORLD,
  type PoolInfo,
  type PoolInput,
  type PoolSpec,
  type WorldSpec,
} from './world/world.js';
export {
  Registry,
  type KubeObject,
  type ResourceType,
  type Column,
  typeKey,
  apiVersionOf,
} from './api/registry.js';
export { Store, type StoredEvent } from './store/store.js';
export type {
  Condition,
  Container,
  ContainerStatus,
  Job,
  JobSet,
  JobSetSpec,
  Node,
  Pod,
  PodSpec,
  PodStatus,
  Taint,
  Toleration,
} from './api/models.js';
export { ANNOTATIONS } from './kubelet/kubelet.js';
export { JOBSET_LABELS, jobSetType } from './controllers/jobset.js';
export { renderKubeconfig } from './kubeconfig.js';
export { RunPodSimulator, type SimRunPodPod } from './runpod/server.js';
export {
  ComputeSimulator,
  SIM_GKE_CLUSTER,
  type ComputeDeletion,
} from './compute/compute-server.js';
export { CallLog, type Call } from './api/calls.js';
export { KueueController, JOB_UID_LABEL, type PendingInfo } from './kueue/controller.js';
export {
  KUEUE_API_VERSION,
  KUEUE_KEYS,
  QUEUE_NAME_LABEL,
  type ClusterQueue,
  type LocalQueue,
  type Workload,
} from './kueue/types.js';
