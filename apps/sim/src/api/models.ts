// The fields of built-in objects that the simulator reads or writes. Objects stay plain JSON;
// these types only describe the parts the controllers touch.
import type { KubeObject } from './registry.js';

export type QuantityMap = Record<string, string | number>;

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string;
  lastHeartbeatTime?: string;
}

export interface ResourceRequirements {
  requests?: QuantityMap;
  limits?: QuantityMap;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  /** `subPath` with `$(VAR)` references to the container's env, expanded as the pod starts. */
  subPathExpr?: string;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  /** Literal values, and `valueFrom.fieldRef` (the downward API, kubelet/downward.ts). */
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  imagePullPolicy?: string;
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  [key: string]: unknown;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  restartPolicy?: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    };
  };
  schedulerName?: string;
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
  subdomain?: string;
  hostname?: string;
  terminationGracePeriodSeconds?: number;
  dnsPolicy?: string;
  serviceAccountName?: string;
  priority?: number;
  [key: string]: unknown;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
    containerID?: string;
  };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface PodStatus {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  hostIP?: string;
  hostIPs?: Array<{ ip: string }>;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime?: string;
  qosClass?: string;
}

export type Pod = KubeObject<PodSpec, PodStatus>;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface JobSpec {
  template: PodTemplate;
  parallelism?: number;
  completions?: number | null;
  backoffLimit?: number;
  activeDeadlineSeconds?: number | null;
  ttlSecondsAfterFinished?: number | null;
  suspend?: boolean;
  completionMode?: string;
  manualSelector?: boolean;
  selector?: { matchLabels?: Record<string, string> };
  podReplacementPolicy?: string;
}

export interface JobStatus {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: Record<string, unknown>;
}

export type Job = KubeObject<JobSpec, JobStatus>;

export interface NodeStatus {
  capacity?: QuantityMap;
  allocatable?: QuantityMap;
  conditions?: Condition[];
  addresses?: Array<{ type: string; address: string }>;
  nodeInfo?: Record<string, string>;
  phase?: string;
}

export type Node = KubeObject<
  { unschedulable?: boolean; taints?: Taint[]; providerID?: string },
  NodeStatus
>;

export interface LimitRangeItem {
  type: string;
  default?: QuantityMap;
  defaultRequest?: QuantityMap;
  max?: QuantityMap;
  min?: QuantityMap;
}

export type LimitRange = KubeObject<{ limits?: LimitRangeItem[] }>;
export type ResourceQuota = KubeObject<
  { hard?: QuantityMap },
  { hard?: QuantityMap; used?: Record<string, string> }
>;
export type PersistentVolumeClaim = KubeObject<
  {
    accessModes?: string[];
    resources?: ResourceRequirements;
    storageClassName?: string;
    volumeMode?: string;
    volumeName?: string;
  },
  { phase?: string; accessModes?: string[]; capacity?: QuantityMap }
>;
export type Service = KubeObject<
  {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: Array<{ port: number; protocol?: string; targetPort?: number | string }>;
  },
  { loadBalancer?: unknown }
>;
export type Namespace = KubeObject<{ finalizers?: string[] }, { phase?: string }>;

export interface ReplicatedJob {
  name: string;
  replicas: number;
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: JobSpec;
  };
}

export interface JobSetSpec {
  replicatedJobs: ReplicatedJob[];
  failurePolicy?: { maxRestarts?: number };
  successPolicy?: { operator?: string; targetReplicatedJobs?: string[] };
  suspend?: boolean;
  network?: { enableDNSHostnames?: boolean; subdomain?: string };
}

export interface ReplicatedJobStatus {
  name: string;
  ready: number;
  succeeded: number;
  failed: number;
  active: number;
  suspended: number;
}

export interface JobSetStatus {
  restarts?: number;
  conditions?: Condition[];
  terminalState?: string;
  replicatedJobsStatus?: ReplicatedJobStatus[];
}

export type JobSet = KubeObject<JobSetSpec, JobSetStatus>;
