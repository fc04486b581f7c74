import type { CreatePodInput } from '@roam/runpod';
import { JOB_INPUTS_DIR, JOB_RESULTS_DIR, wrapForResults } from '@roam/object-store';

/** Annotations of the RunPod controller, read and written on Jobs. */
export const RUNPOD = {
  managed: 'runpod.io/managed',
  offload: 'runpod.io/offload',
  requiredGpuMemory: 'runpod.io/required-gpu-memory',
  podId: 'runpod.io/pod-id',
  gpuType: 'runpod.io/gpu-type',
  pricePerHour: 'runpod.io/price-per-hour',
  dataCenter: 'runpod.io/data-center',
  /** roam's additions: where the offload stands and why (e.g. no GPU under the price cap). */
  status: 'runpod.io/offload-status',
  reason: 'runpod.io/offload-reason',
  offloadId: 'runpod.io/offload-id',
} as const;

/** RunPod pods roam creates are named with this prefix + the Offload id: the tag sweeps find. */
export const POD_NAME_PREFIX = 'roam-offload-';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ containerPort: number; protocol?: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface KubeJob {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    creationTimestamp?: Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: Date;
  };
  spec?: {
    suspend?: boolean;
    activeDeadlineSeconds?: number;
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers?: ContainerSpec[] };
    };
  };
  status?: {
    active?: number;
    ready?: number;
    succeeded?: number;
    conditions?: Array<{ type: string; status: string }>;
  };
}

export function isFinished(job: KubeJob): boolean {
  return (job.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

export function gpuCountOf(container: ContainerSpec | undefined): number {
  const r = container?.resources;
  const value = r?.limits?.['nvidia.com/gpu'] ?? r?.requests?.['nvidia.com/gpu'] ?? '1';
  return Math.max(1, Number.parseInt(value, 10) || 1);
}

function diskGb(container: ContainerSpec): number {
  const raw = container.resources?.requests?.['ephemeral-storage'];
  const m = raw ? /^(\d+(?:\.\d+)?)(Gi|G|Mi|M|Ti|T)?$/.exec(raw) : null;
  if (!m) return 20;
  const n = Number(m[1]);
  const gb =
    { Gi: n, G: n, Mi: n / 1024, M: n / 1000, Ti: n * 1024, T: n * 1000 }[m[2] ?? 'G'] ?? n;
  return Math.max(1, Math.ceil(gb));
}

/** `sim.roam.dev/duration` → `ROAM_SIM_DURATION` (and exit-code, logs, files): the simulated RunPod honours these (harmless on the real one). */
function simEnv(annotations: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    const m = /^sim\.roam\.dev\/(duration|exit-code|logs|files)$/.exec(key);
    if (m) out[`ROAM_SIM_${m[1]!.toUpperCase().replace('-', '_')}`] = value;
  }
  return out;
}

/**
 * What a roam job's RunPod pod gets to move its files (there are no init containers or
 * sidecars there): presigned URLs, used by the wrapper around its command (@roam/object-store
 * results-upload.ts).
 */
export interface OffloadFiles {
  inputs?: { url: string; format: 'zip' | 'tar.gz' };
  resultsUploadUrl: string;
}

function filesEnv(files: OffloadFiles): Record<string, string> {
  return {
    ROAM_INPUTS_DIR: JOB_INPUTS_DIR,
    ROAM_RESULTS_DIR: JOB_RESULTS_DIR,
    ROAM_RESULTS_UPLOAD_URL: files.resultsUploadUrl,
    ...(files.inputs
      ? { ROAM_INPUTS_URL: files.inputs.url, ROAM_INPUTS_FORMAT: files.inputs.format }
      : {}),
  };
}

/** The RunPod pod for a Job's first container, env already resolved (secret refs read). */
export function runpodPodInput(input: {
  offloadId: string;
  container: ContainerSpec;
  env: Record<string, string>;
  podAnnotations: Record<string, string>;
  gpuTypeIds: string[];
  gpuCount: number;
  dataCenterIds: string[];
  cloudType: 'SECURE' | 'COMMUNITY';
  /** A roam job's inputs and results; wraps the command, which must then be set. */
  files?: OffloadFiles;
}): CreatePodInput {
  const { container } = input;
  const wrap = input.files && container.command?.length ? input.files : undefined;
  return {
    name: `${POD_NAME_PREFIX}${input.offloadId}`,
    imageName: container.image ?? '',
    ...(wrap
      ? { dockerEntrypoint: wrapForResults([...container.command!, ...(container.args ?? [])]) }
      : {
          ...(container.command?.length ? { dockerEntrypoint: container.command } : {}),
          ...(container.args?.length ? { dockerStartCmd: container.args } : {}),
        }),
    env: {
      ...simEnv(input.podAnnotations),
      ...input.env,
      ...(wrap ? filesEnv(wrap) : {}),
      ROAM_OFFLOAD_ID: input.offloadId,
    },
    ports: (container.ports ?? []).map(
      (p) =>
        `${p.containerPort}/${p.protocol === 'UDP' ? 'udp' : p.protocol === 'TCP' ? 'tcp' : 'http'}`,
    ),
    containerDiskInGb: diskGb(container),
    gpuTypeIds: input.gpuTypeIds,
    gpuCount: input.gpuCount,
    dataCenterIds: input.dataCenterIds,
    cloudType: input.cloudType,
  };
}

/** The node RunPod pods are shown on: never schedulable, tainted, marked as a virtual kubelet. */
export function virtualNode(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        type: 'virtual-kubelet',
        'kubernetes.io/role': 'agent',
        'runpod.io/virtual': 'true',
      },
    },
    spec: {
      unschedulable: true,
      taints: [{ key: 'virtual-kubelet.io/provider', value: 'runpod', effect: 'NoSchedule' }],
    },
  };
}

/**
 * The Pod that stands for a RunPod pod. Owned by the Job (so deleting the Job deletes it) but
 * not as its controller, and without the Job's selector labels: the Job controller neither
 * counts nor deletes it, and the suspended Job runs nothing in the cluster.
 */
export function virtualPod(input: {
  job: KubeJob;
  offloadId: string;
  runpodPodId: string;
  gpuType: string;
  nodeName: string;
}) {
  const meta = input.job.metadata ?? {};
  const container = input.job.spec?.template?.spec?.containers?.[0];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${meta.name}-runpod`,
      namespace: meta.namespace,
      labels: {
        'runpod.io/managed': 'true',
        [RUNPOD.offloadId]: input.offloadId,
        'job-name': meta.name ?? '',
      },
      annotations: { [RUNPOD.podId]: input.runpodPodId, [RUNPOD.gpuType]: input.gpuType },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: meta.name ?? '',
          uid: meta.uid ?? '',
          controller: false,
          blockOwnerDeletion: false,
        },
      ],
    },
    spec: {
      nodeName: input.nodeName,
      restartPolicy: 'Never',
      tolerations: [
        { key: 'virtual-kubelet.io/provider', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
      ],
      containers: [{ name: container?.name ?? 'main', image: container?.image ?? 'runpod' }],
    },
  };
}

export function podStatus(
  phase: 'Running' | 'Succeeded' | 'Failed',
  startedAt: Date,
  exitCode?: number,
  endedAt?: Date,
  container = 'main',
) {
  const started = startedAt.toISOString();
  const state =
    phase === 'Running'
      ? { running: { startedAt: started } }
      : {
          terminated: {
            exitCode: exitCode ?? (phase === 'Succeeded' ? 0 : 1),
            reason: phase === 'Succeeded' ? 'Completed' : 'Error',
            startedAt: started,
            finishedAt: (endedAt ?? new Date()).toISOString(),
          },
        };
  return {
    phase,
    startTime: started,
    conditions: [
      {
        type: 'Ready',
        status: phase === 'Running' ? 'True' : 'False',
        lastTransitionTime: new Date().toISOString(),
      },
    ],
    containerStatuses: [
      {
        name: container,
        ready: phase === 'Running',
        restartCount: 0,
        image: 'runpod',
        imageID: 'runpod://',
        state,
      },
    ],
  };
}
