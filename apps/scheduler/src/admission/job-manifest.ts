import { indexedShape, type JobSpec, multiPodKind, tenantAnnotationAllowed } from '@roam/contracts';
import type { AdmittedCapacity, SliceLayout } from '@roam/domain';
import {
  attemptObjectRef,
  JOBSET_API_VERSION,
  jobLabels,
  kubeJobName,
  kubeJobSetName,
  ROAM_LABELS,
} from '@roam/kube';

import { acceleratorRequests, type FlavorPlacement, flavorPlacement } from './flavor-placement.js';
import { type EnvVar, type JobFiles, withJobFiles } from './job-files.js';
import { kueueJobLabels } from './kueue/kueue-job.js';

export interface ManifestInput {
  id: string;
  tenantId: string;
  namespace: string;
  name: string;
  attempt: number;
  spec: JobSpec;
  defaultMaxDurationSeconds: number;
  /** How the pod gets its inputs and gives back its results (job-files.ts). */
  files?: JobFiles;
  /**
   * ROAM_ADMISSION=kueue: the LocalQueue Kueue admits the Job from. The Job is created
   * suspended with the queue-name label; Kueue unsuspends it once its Workload is admitted.
   */
  kueueQueue?: string;
  /** ROAM_ADMISSION=kueue: the WorkloadPriorityClass its Job names (kueue-job.ts). */
  kueuePriorityClass?: string;
  /** The capacity admission placed a `prefer-spot` job on: its pods are bound to it. */
  admittedCapacity?: AdmittedCapacity;
  /** A TPU job's slice as it lays out on the cluster's nodes (`sliceLayout`). */
  slice?: SliceLayout;
  /** The node pools admission placed a job's TPU slices on (`Admission.slicePools`). */
  admittedPools?: string[];
}

/** The node label a TPU slice's pool is named by on GKE, which slices are bound with. */
export const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
/**
 * JobSet's exclusive placement: each child Job's pods go to one value of this node label (one
 * node pool), and no two child Jobs share one.
 */
export const EXCLUSIVE_TOPOLOGY_ANNOTATION = 'alpha.jobset.sigs.k8s.io/exclusive-topology';

/** The LocalQueue of a job that names none (the ROAM controller's DEFAULT_QUEUE). */
export const DEFAULT_QUEUE = 'user-queue';

/** The Job's activeDeadlineSeconds: the job's own limit, or the scheduler's default. */
export const deadlineSeconds = (spec: JobSpec, fallback: number): number =>
  spec.max_duration_seconds ?? fallback;

/** The annotation an indexed Job's controller gives each pod its completion index in. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** The annotation the JobSet controller gives each pod its child Job's index in. */
export const JOBSET_JOB_INDEX_ANNOTATION = 'jobset.sigs.k8s.io/job-index';

/** What differs between the pods of one job: a replicated job's own image, command, requests. */
interface PodShape {
  image: string;
  command: string[];
  args?: string[];
  resources: JobSpec['resources'];
  /** roam's replica env beyond the attempt's (`ROAM_REPLICA_INDEX`, `ROAM_REPLICATED_JOB`). */
  env: EnvVar[];
  /** TPU chips each pod asks for: one host's, for a multi-host slice. */
  chipsPerHost?: number;
  /** The headless Service the pods' hostnames resolve under (`<hostname>.<subdomain>`). */
  subdomain?: string;
  /** How a multi-pod job's results uploader finds its slot (`resultSlotsOf`). */
  resultsEnv?: EnvVar[];
  /** Node pools the pods may go to (`NODE_POOL_LABEL` In these): a job's TPU slices' pools. */
  pools?: string[];
  /** PVC mode: the pod's results folder, its slot's prefix over `resultsEnv` (`subPathExpr`). */
  resultsDir?: string;
}

/** An env var read from one of the pod's own annotations (the downward API). */
const fromAnnotation = (name: string, annotation: string): EnvVar => ({
  name,
  valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${annotation}']` } },
});

/** A pod's completion index in its (child) Job, for its results uploader. */
const completionIndexEnv = fromAnnotation(
  'ROAM_RESULTS_COMPLETION_INDEX',
  COMPLETION_INDEX_ANNOTATION,
);

/** The pod template of an attempt's pods (every pod of a Job, or of one replicated job). */
function podTemplate(input: ManifestInput, shape: PodShape) {
  const { spec } = input;
  const labels = jobLabels(input.id, input.tenantId, input.attempt);
  const requests: Record<string, string> = {
    cpu: shape.resources.cpu,
    memory: shape.resources.memory,
  };
  const limits: Record<string, string> = { memory: shape.resources.memory };
  // This pod's accelerators (a replicated job may ask for its own); the job's capacity.
  const podSpec: JobSpec = { ...spec, resources: shape.resources };
  Object.assign(requests, acceleratorRequests(podSpec, shape.chipsPerHost));
  Object.assign(limits, acceleratorRequests(podSpec, shape.chipsPerHost));
  // The JobSpec schema refuses other keys at submit; a row written before that rule (or by
  // any other path) still never steers the kubelet, the autoscaler or the offload worker.
  const tenantAnnotations = Object.entries(spec.annotations ?? {}).filter(([key]) =>
    tenantAnnotationAllowed(key),
  );
  const podAnnotations: Record<string, string> = {
    ...Object.fromEntries(tenantAnnotations),
    'roam.dev/job-name': input.name,
  };
  return {
    metadata: { labels, annotations: podAnnotations },
    // Working directories, the inputs fetcher and the results side: owned by job-files.ts.
    spec: withJobFiles(
      {
        restartPolicy: 'Never',
        // A tenant's code gets no Kubernetes API token: the namespace's service account is
        // roam's to provision, not the job's to use (docs/security.md).
        automountServiceAccountToken: false,
        ...(shape.subdomain ? { subdomain: shape.subdomain } : {}),
        // Node selector, affinity and tolerations of its GPU/TPU type and capacity.
        ...withPools(flavorPlacement(podSpec, input.admittedCapacity), shape.pools),
        containers: [
          {
            name: 'main',
            image: shape.image,
            command: shape.command,
            ...(shape.args ? { args: shape.args } : {}),
            // The job's own env, then roam's (so a job can tell which attempt it is).
            env: [
              ...Object.entries(spec.env ?? {}).map(([name, value]): EnvVar => ({ name, value })),
              { name: 'ROAM_JOB_ID', value: input.id },
              { name: 'ROAM_TENANT', value: input.tenantId },
              { name: 'ROAM_ATTEMPT', value: String(input.attempt) },
              ...shape.env,
            ],
            resources: { requests, limits },
          },
        ],
      },
      input.id,
      input.files?.results && shape.resultsEnv
        ? { ...input.files, results: { ...input.files.results, slotEnv: shape.resultsEnv } }
        : input.files?.claim && shape.resultsEnv && shape.resultsDir
          ? { ...input.files, replicaDir: { expr: shape.resultsDir, env: shape.resultsEnv } }
          : input.files,
    ),
  };
}

/**
 * The placement with a required node affinity to `pools` (`NODE_POOL_LABEL` In them), added to
 * the on-demand term when there is one: both must hold.
 */
function withPools(placement: FlavorPlacement, pools: string[] | undefined): FlavorPlacement {
  if (!pools || pools.length === 0) return placement;
  const expression = { key: NODE_POOL_LABEL, operator: 'In' as const, values: pools };
  const terms =
    placement.affinity?.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms ?? [];
  const merged = terms.length
    ? terms.map((t) => ({ matchExpressions: [...t.matchExpressions, expression] }))
    : [{ matchExpressions: [expression] }];
  return {
    ...placement,
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: merged },
      },
    },
  };
}

function objectMeta(input: ManifestInput, name: string) {
  const { spec } = input;
  const labels = jobLabels(input.id, input.tenantId, input.attempt);
  const annotations: Record<string, string> = { 'roam.dev/job-name': input.name };
  if (spec.offload !== 'never') annotations['runpod.io/managed'] = 'true';
  if (spec.offload === 'required') annotations['runpod.io/offload'] = 'true';
  return {
    name,
    namespace: input.namespace,
    labels: input.kueueQueue
      ? { ...labels, ...kueueJobLabels(input.kueueQueue, spec.priority, input.kueuePriorityClass) }
      : labels,
    annotations,
  };
}

/**
 * The batch/v1 Job for one attempt. `backoffLimit: 0`: roam owns retries (its policy decides,
 * and each retry is a new attempt with its own Job). No `ttlSecondsAfterFinished`: the
 * reconciler deletes the objects once it has recorded the outcome, so Kubernetes never
 * removes a Job whose end roam has not seen. With `parallelism`/`completions` it is an indexed
 * Job: each pod reads its index from `JOB_COMPLETION_INDEX` (set by Kubernetes) and
 * `ROAM_REPLICA_INDEX`.
 */
export function jobManifest(input: ManifestInput) {
  const { spec } = input;
  const indexed = multiPodKind(spec) === 'indexed';
  const hosts = sliceHosts(input);
  const name = kubeJobName(input.id, input.attempt);
  const shape = indexed
    ? indexedShape(spec)
    : hosts > 1
      ? { parallelism: hosts, completions: hosts }
      : undefined;
  const env = indexed
    ? [fromAnnotation('ROAM_REPLICA_INDEX', COMPLETION_INDEX_ANNOTATION)]
    : hosts > 1
      ? sliceEnv(name, hosts)
      : [];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: objectMeta(input, name),
    spec: {
      ...(input.kueueQueue ? { suspend: true } : {}),
      ...(shape
        ? {
            completionMode: 'Indexed',
            parallelism: shape.parallelism,
            completions: shape.completions,
          }
        : {}),
      backoffLimit: 0,
      activeDeadlineSeconds: deadlineSeconds(spec, input.defaultMaxDurationSeconds),
      template: podTemplate(input, {
        image: spec.image,
        command: spec.command,
        ...(spec.args ? { args: spec.args } : {}),
        resources: spec.resources,
        env,
        ...(hosts > 1 ? { chipsPerHost: input.slice?.perHost, subdomain: name } : {}),
        // A multi-host slice's pods share the attempt's one results upload (docs/storage.md).
        ...(indexed
          ? { resultsEnv: [completionIndexEnv], resultsDir: `$(${completionIndexEnv.name})` }
          : {}),
      }),
    },
  };
}

/**
 * Hosts of the job's multi-host TPU slice; 1 for anything else. A multi-host slice (v5e `4x4`
 * on 4-chip hosts: 4) runs as an indexed Job of one pod per host (docs/scheduling.md#flavors).
 * Only a job that names no pods of its own: `parallelism` and `replicated_jobs` say theirs.
 */
export function sliceHosts(input: Pick<ManifestInput, 'spec' | 'slice'>): number {
  if (!input.spec.resources.tpu || multiPodKind(input.spec) !== 'single') return 1;
  return input.slice?.hosts ?? 1;
}

/**
 * What a TPU runtime on GKE reads to find the slice's other hosts: `TPU_WORKER_ID` (this pod's
 * completion index) and `TPU_WORKER_HOSTNAMES` (every pod's DNS name, in index order: an indexed
 * Job's pod is `<job>-<index>`, under the headless Service named like the Job), with roam's
 * `ROAM_REPLICA_INDEX`.
 */
function sliceEnv(job: string, hosts: number): EnvVar[] {
  return [
    fromAnnotation('ROAM_REPLICA_INDEX', COMPLETION_INDEX_ANNOTATION),
    fromAnnotation('TPU_WORKER_ID', COMPLETION_INDEX_ANNOTATION),
    {
      name: 'TPU_WORKER_HOSTNAMES',
      value: Array.from({ length: hosts }, (_, i) => `${job}-${i}.${job}`).join(','),
    },
  ];
}

/**
 * The headless Service of a multi-host slice's Job, which gives its pods the DNS names in
 * `TPU_WORKER_HOSTNAMES`. Owned by the Job (`owner`: the Job as created), so it goes with it.
 * Undefined for every other job.
 */
export function sliceServiceManifest(
  input: ManifestInput,
  owner: { uid: string },
): Record<string, unknown> | undefined {
  if (sliceHosts(input) <= 1) return undefined;
  const name = kubeJobName(input.id, input.attempt);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: input.namespace,
      labels: jobLabels(input.id, input.tenantId, input.attempt),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name, uid: owner.uid, blockOwnerDeletion: true },
      ],
    },
    spec: {
      clusterIP: 'None',
      // The hosts find each other before they are all ready: the slice starts together.
      publishNotReadyAddresses: true,
      selector: { [ROAM_LABELS.jobId]: input.id, [ROAM_LABELS.attempt]: String(input.attempt) },
    },
  };
}

/**
 * The jobset.x-k8s.io/v1alpha2 JobSet for one attempt of a job with `replicated_jobs`: one
 * replicated job each (`replicas` indexed child Jobs of `parallelism` pods), the JobSpec's
 * success and failure policies. Each pod knows its group (`ROAM_REPLICATED_JOB`) and its child
 * Job's index in it (`ROAM_REPLICA_INDEX`): `worker-1` is the pods with `worker` and 1.
 */
export function jobSetManifest(input: ManifestInput) {
  const { spec } = input;
  const success = spec.success_policy;
  const name = kubeJobSetName(input.id, input.attempt);
  const slices = slicesOf(input);
  const metadata = objectMeta(input, name);
  if (slices)
    // Each slice (child Job) on a node pool of its own, as GKE's multislice JobSets are written.
    metadata.annotations[EXCLUSIVE_TOPOLOGY_ANNOTATION] = NODE_POOL_LABEL;
  return {
    apiVersion: JOBSET_API_VERSION,
    kind: 'JobSet',
    metadata,
    spec: {
      // Pods get DNS names `<jobset>-<replicated job>-<slice>-<host>.<jobset>` (a headless
      // Service the JobSet controller makes), which TPU_WORKER_HOSTNAMES lists.
      ...(slices ? { network: { enableDNSHostnames: true } } : {}),
      ...(input.kueueQueue ? { suspend: true } : {}),
      failurePolicy: { maxRestarts: spec.failure_policy?.max_restarts ?? 0 },
      successPolicy: {
        operator: success?.operator === 'any' ? 'Any' : 'All',
        ...(success?.target_replicated_jobs
          ? { targetReplicatedJobs: success.target_replicated_jobs }
          : {}),
      },
      replicatedJobs: (spec.replicated_jobs ?? []).map((rj) => {
        const parallelism = rj.parallelism ?? 1;
        return {
          name: rj.name,
          replicas: rj.replicas,
          template: {
            spec: {
              completionMode: 'Indexed',
              parallelism,
              completions: rj.completions ?? parallelism,
              backoffLimit: 0,
              activeDeadlineSeconds: deadlineSeconds(spec, input.defaultMaxDurationSeconds),
              template: podTemplate(input, {
                image: rj.image ?? spec.image,
                command: rj.command ?? spec.command,
                ...((rj.args ?? spec.args) ? { args: rj.args ?? spec.args } : {}),
                resources: rj.resources ?? spec.resources,
                env: [
                  { name: 'ROAM_REPLICATED_JOB', value: rj.name },
                  fromAnnotation('ROAM_REPLICA_INDEX', JOBSET_JOB_INDEX_ANNOTATION),
                  ...(slices ? slicesEnv(name, rj.name, rj.replicas, slices.hosts) : []),
                ],
                ...(slices
                  ? {
                      chipsPerHost: slices.perHost,
                      ...(input.admittedPools ? { pools: input.admittedPools } : {}),
                    }
                  : {}),
                resultsEnv: [
                  { name: 'ROAM_REPLICATED_JOB', value: rj.name },
                  fromAnnotation('ROAM_RESULTS_JOB_INDEX', JOBSET_JOB_INDEX_ANNOTATION),
                  completionIndexEnv,
                ],
                // The slot's prefix (`resultSlotsOf`): `worker-1`, `worker-1/0` with several pods.
                resultsDir:
                  (rj.completions ?? parallelism) > 1
                    ? `${rj.name}-$(ROAM_RESULTS_JOB_INDEX)/$(${completionIndexEnv.name})`
                    : `${rj.name}-$(ROAM_RESULTS_JOB_INDEX)`,
              }),
            },
          },
        };
      }),
    },
  };
}

/**
 * The layout of a JobSet of multi-host TPU slices (docs/scheduling.md#flavors): the job's slice
 * spans several hosts, and its one replicated job's `replicas` are the slices (the gateway set
 * its `parallelism` to the hosts). Undefined for any other job.
 */
export function slicesOf(
  input: Pick<ManifestInput, 'spec' | 'slice'>,
): { hosts: number; perHost: number } | undefined {
  const { spec, slice } = input;
  if (!spec.resources.tpu || multiPodKind(spec) !== 'jobset' || !slice || slice.hosts <= 1)
    return undefined;
  return { hosts: slice.hosts, perHost: slice.perHost };
}

/**
 * What a TPU runtime reads in a JobSet of slices: `TPU_WORKER_ID` (the pod's index in its
 * slice), `TPU_WORKER_HOSTNAMES` (its slice's hosts, in index order, by the DNS names JobSet
 * gives them: `<jobset>-<replicated job>-<slice>-<host>.<jobset>`), and with several slices
 * the multislice (megascale) ones: `MEGASCALE_NUM_SLICES`, `MEGASCALE_SLICE_ID` (the child
 * Job's index) and `MEGASCALE_COORDINATOR_ADDRESS` (host 0 of slice 0). The slice's index is
 * known to the pod only, so the host names refer to it as `$(MEGASCALE_SLICE_ID)`, which the
 * kubelet expands (it is defined first).
 */
function slicesEnv(jobSet: string, rj: string, slices: number, hosts: number): EnvVar[] {
  const slice = slices > 1 ? '$(MEGASCALE_SLICE_ID)' : '0';
  return [
    ...(slices > 1
      ? [
          fromAnnotation('MEGASCALE_SLICE_ID', JOBSET_JOB_INDEX_ANNOTATION),
          { name: 'MEGASCALE_NUM_SLICES', value: String(slices) },
          { name: 'MEGASCALE_COORDINATOR_ADDRESS', value: `${jobSet}-${rj}-0-0.${jobSet}` },
        ]
      : []),
    fromAnnotation('TPU_WORKER_ID', COMPLETION_INDEX_ANNOTATION),
    {
      name: 'TPU_WORKER_HOSTNAMES',
      value: Array.from(
        { length: hosts },
        (_, i) => `${jobSet}-${rj}-${slice}-${i}.${jobSet}`,
      ).join(','),
    },
  ];
}

/** The object one attempt is created as: a Job, or a JobSet for a job with replicated jobs. */
export function attemptManifest(input: ManifestInput) {
  return multiPodKind(input.spec) === 'jobset' ? jobSetManifest(input) : jobManifest(input);
}

/** The name of an attempt's object (`attemptManifest`'s). */
export const attemptObjectName = (spec: JobSpec, id: string, attempt: number): string =>
  attemptObjectRef(multiPodKind(spec) === 'jobset', id, attempt).name;
