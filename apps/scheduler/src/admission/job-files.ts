import { Inject, Injectable } from '@nestjs/common';
import {
  DEPS_CONTAINER,
  DEPS_FETCH_SCRIPT,
  INPUTS_CONTAINER,
  inputsFormatOf,
  JOB_INPUTS_DIR,
  JOB_RESULTS_DIR,
  type ObjectStore,
  presignJobFiles,
  RESULTS_CONTAINER,
  RESULTS_SIDECAR_SCRIPT,
} from '@roam/object-store';
import type { ResultSlot } from '@roam/contracts';
import { APP_CONFIG, OBJECT_STORE } from '@roam/runtime';

import {
  type DependencyInputs,
  DependencyInputsService,
} from '../dependencies/dependency-inputs.service.js';
import type { SchedulerConfig } from '../scheduler.config.js';

/** PVC mode: each tenant's results volume. */
export const RESULTS_CLAIM = 'roam-results';
const WORK_VOLUME = 'roam-work';
const CLAIM_VOLUME = 'roam-results-volume';
/** Where the inputs fetcher mounts the tenant volume in PVC mode. */
const VOLUME_MOUNT = '/roam-volume';

/**
 * ROAM_ADMISSION=kueue: the pod annotations that carry an attempt's presigned URLs. The roam
 * AdmissionCheck mints them when Kueue reserves quota and hands them to Kueue as the pod set's
 * `podSetUpdates`; Kueue puts them on the pod template as it unsuspends the Job, and the helper
 * containers read them through the downward API. So a URL's lifetime starts at admission, not
 * when the suspended Job was created.
 */
export const FILE_URL_ANNOTATIONS = {
  inputs: 'roam.dev/inputs-url',
  results: 'roam.dev/results-upload-url',
  resultsManifest: 'roam.dev/results-manifest-url',
  depsManifest: 'roam.dev/deps-manifest-url',
  depsError: 'roam.dev/deps-error',
} as const;

/** How one job's pod gets its inputs and gives back its results. */
export interface JobFiles {
  /** The input archive: a presigned GET (object storage) or a path on the tenant volume (PVC). */
  inputs?: { url?: string; file?: string; format: 'zip' | 'tar.gz'; image: string };
  /** `inputs_from_dependencies`: the manifest of the dependencies' results, or why it failed. */
  deps?: Partial<{ manifestUrl: string; error: string }> & { image: string };
  /**
   * Object storage: the presigned PUT the results sidecar uploads the results archive to; for a
   * multi-pod job (`multiPod`), the presigned GET of the manifest of every pod's PUT instead,
   * and `slotEnv`, how this template's pods read their slot in it (`resultSlotsOf`).
   */
  results?: {
    uploadUrl?: string;
    manifestUrl?: string;
    multiPod?: boolean;
    slotEnv?: EnvVar[];
    image: string;
  };
  /**
   * ROAM_ADMISSION=kueue: no URL is in the spec; each helper reads its URL from the pod's
   * FILE_URL_ANNOTATIONS (the downward API), filled at admission.
   */
  urlsAtAdmission?: boolean;
  /** PVC mode: the tenant's results claim, mounted at JOB_RESULTS_DIR with `results/<job>` as subPath. */
  claim?: string;
  /**
   * PVC mode, a pod of a multi-pod job: its own folder under `results/<job>/`, the prefix its
   * upload has in object storage (`resultSlotsOf`: `3`, `worker-1`), as a `subPathExpr` over
   * `env` (the downward API's reads of the pod's indexes), so pods never overwrite each other
   * (docs/storage.md#results-and-logs-of-multi-pod-jobs).
   */
  replicaDir?: { expr: string; env: EnvVar[] };
  /** Node disk the pod's roam parts may use; `DEFAULT_POD_DISK` when not given. */
  disk?: PodDisk;
}

/**
 * Node disk bounds of what roam adds to a pod: the `/roam` emptyDir (inputs and results
 * scratch) gets a `sizeLimit`, and the helper containers an `ephemeral-storage` request and
 * limit (the fetcher keeps the downloaded archive in its own filesystem until unpacked). Past
 * either, the kubelet evicts the pod instead of the node filling up.
 */
export interface PodDisk {
  workSizeLimit: string;
  helperEphemeralStorage: string;
}

/** The scheduler's defaults (JOB_WORK_SIZE_LIMIT, JOB_HELPER_EPHEMERAL_STORAGE). */
export const DEFAULT_POD_DISK: PodDisk = { workSizeLimit: '10Gi', helperEphemeralStorage: '1Gi' };

/**
 * What the fetcher runs (busybox has wget, unzip and tar). The archive was checked at upload
 * (no absolute or `..` paths, size caps), so unpacking it as is is safe.
 */
const FETCH_SCRIPT = [
  'set -eu',
  'if [ -z "${ROAM_INPUTS_FILE:-}" ] && [ -z "${ROAM_INPUTS_URL:-}" ]; then echo "roam-inputs: no inputs URL (the pod has no roam.dev/inputs-url annotation)" >&2; exit 1; fi',
  'mkdir -p "$ROAM_INPUTS_DIR"',
  'if [ -n "${ROAM_INPUTS_FILE:-}" ]; then cp "$ROAM_INPUTS_FILE" /tmp/roam-inputs; else wget -q -O /tmp/roam-inputs "$ROAM_INPUTS_URL"; fi',
  'if [ "$ROAM_INPUTS_FORMAT" = zip ]; then unzip -o -q /tmp/roam-inputs -d "$ROAM_INPUTS_DIR"; else tar -xzf /tmp/roam-inputs -C "$ROAM_INPUTS_DIR"; fi',
  'rm -f /tmp/roam-inputs',
].join('\n');

/** A container's env var: a value, or one read from the pod itself (`valueFrom`). */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef: { fieldPath: string } };
}

interface PodSpecLike {
  containers: { env?: EnvVar[]; volumeMounts?: unknown[] }[];
  initContainers?: unknown[];
  volumes?: unknown[];
}

const helperResources = (disk: PodDisk) => ({
  requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': disk.helperEphemeralStorage },
  limits: { memory: '256Mi', 'ephemeral-storage': disk.helperEphemeralStorage },
});

/**
 * Gives a job's pod its working directories and the helpers that move its files: an emptyDir
 * at `/roam`, `ROAM_INPUTS_DIR`/`ROAM_RESULTS_DIR` in the main container's env, the
 * `roam-inputs` init container when the job has an input archive, and either the
 * `roam-results` sidecar (object storage) or the tenant's results claim at `ROAM_RESULTS_DIR`
 * (PVC mode). No ConfigMap, so no 1 MB limit on either side.
 */
export function withJobFiles<T extends PodSpecLike>(
  spec: T,
  jobId: string,
  files: JobFiles = {},
): T {
  const work = { name: WORK_VOLUME, mountPath: '/roam' };
  const dirs = [
    { name: 'ROAM_INPUTS_DIR', value: JOB_INPUTS_DIR },
    { name: 'ROAM_RESULTS_DIR', value: JOB_RESULTS_DIR },
  ];
  const { inputs, deps, results, claim, disk = DEFAULT_POD_DISK, urlsAtAdmission } = files;
  /** A URL's env var: its value, or (kueue mode) the downward API's read of its annotation. */
  const url = (name: string, value: string | undefined, annotation: string) =>
    urlsAtAdmission
      ? { name, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${annotation}']` } } }
      : { name, value: value ?? '' };
  const volume = { name: CLAIM_VOLUME, mountPath: VOLUME_MOUNT, readOnly: true };
  const initContainers: unknown[] = [...(spec.initContainers ?? [])];
  if (inputs)
    initContainers.push({
      name: INPUTS_CONTAINER,
      image: inputs.image,
      command: ['sh', '-c', FETCH_SCRIPT],
      env: [
        inputs.file
          ? { name: 'ROAM_INPUTS_FILE', value: `${VOLUME_MOUNT}/${inputs.file}` }
          : url('ROAM_INPUTS_URL', inputs.url, FILE_URL_ANNOTATIONS.inputs),
        { name: 'ROAM_INPUTS_FORMAT', value: inputs.format },
        { name: 'ROAM_INPUTS_DIR', value: JOB_INPUTS_DIR },
      ],
      volumeMounts: inputs.file && claim ? [work, volume] : [work],
      resources: helperResources(disk),
    });
  if (deps)
    initContainers.push({
      name: DEPS_CONTAINER,
      image: deps.image,
      command: ['sh', '-c', DEPS_FETCH_SCRIPT],
      env: [
        ...(urlsAtAdmission
          ? [
              url('ROAM_DEPS_ERROR', undefined, FILE_URL_ANNOTATIONS.depsError),
              url('ROAM_DEPS_MANIFEST_URL', undefined, FILE_URL_ANNOTATIONS.depsManifest),
            ]
          : deps.error !== undefined
            ? [{ name: 'ROAM_DEPS_ERROR', value: deps.error }]
            : [{ name: 'ROAM_DEPS_MANIFEST_URL', value: deps.manifestUrl ?? '' }]),
        { name: 'ROAM_INPUTS_DIR', value: JOB_INPUTS_DIR },
      ],
      volumeMounts: [work],
      resources: helperResources(disk),
    });
  if (results)
    initContainers.push({
      name: RESULTS_CONTAINER,
      image: results.image,
      // A native sidecar (Kubernetes 1.29+): started before main, stopped after it.
      restartPolicy: 'Always',
      // Sleeps until the kubelet's SIGTERM, which comes once main has exited, then uploads.
      command: ['sh', '-c', RESULTS_SIDECAR_SCRIPT],
      env: [
        results.multiPod
          ? url(
              'ROAM_RESULTS_MANIFEST_URL',
              results.manifestUrl,
              FILE_URL_ANNOTATIONS.resultsManifest,
            )
          : url('ROAM_RESULTS_UPLOAD_URL', results.uploadUrl, FILE_URL_ANNOTATIONS.results),
        ...(results.slotEnv ?? []),
        { name: 'ROAM_RESULTS_DIR', value: JOB_RESULTS_DIR },
      ],
      volumeMounts: [work],
      // No CPU or memory requested, so the sidecar never changes where (or whether) the job
      // fits; its disk is bounded like the fetcher's.
      resources: {
        requests: { cpu: '0', memory: '0', 'ephemeral-storage': disk.helperEphemeralStorage },
        limits: { memory: '256Mi', 'ephemeral-storage': disk.helperEphemeralStorage },
      },
    });
  const { replicaDir } = files;
  const resultsMount = !claim
    ? []
    : replicaDir
      ? [
          {
            name: CLAIM_VOLUME,
            mountPath: JOB_RESULTS_DIR,
            subPathExpr: `results/${jobId}/${replicaDir.expr}`,
          },
        ]
      : [{ name: CLAIM_VOLUME, mountPath: JOB_RESULTS_DIR, subPath: `results/${jobId}` }];
  // The subPathExpr reads the main container's env: roam's replica vars, in place of any of
  // the same name (a tenant's `env` must not point its pods at one folder, or another's).
  const replicaVars = claim && replicaDir ? replicaDir.env : [];
  const ownNames = new Set(replicaVars.map((v) => v.name));
  const withReplicaEnv = (env: EnvVar[]) =>
    replicaVars.length === 0 ? env : [...env.filter((e) => !ownNames.has(e.name)), ...replicaVars];
  return {
    ...spec,
    volumes: [
      ...(spec.volumes ?? []),
      { name: WORK_VOLUME, emptyDir: { sizeLimit: disk.workSizeLimit } },
      ...(claim ? [{ name: CLAIM_VOLUME, persistentVolumeClaim: { claimName: claim } }] : []),
    ],
    ...(initContainers.length > 0 ? { initContainers } : {}),
    containers: spec.containers.map((c, i) =>
      i === 0
        ? {
            ...c,
            env: withReplicaEnv([...(c.env ?? []), ...dirs]),
            volumeMounts: [...(c.volumeMounts ?? []), work, ...resultsMount],
          }
        : c,
    ),
  };
}

/** What the scheduler knows of a job about to get its Kubernetes Job. */
export interface JobFilesRequest {
  id: string;
  tenantId: string;
  attempt: number;
  /** The Job's activeDeadlineSeconds: the results URL must outlive the run. */
  deadlineSeconds: number;
  inputsKey: string | null;
  /** The spec's `inputs_from_dependencies`. */
  inputsFromDependencies: boolean;
  /** A multi-pod job's pods (`resultSlotsOf`): each uploads its own results. */
  resultSlots?: ResultSlot[] | undefined;
}

/**
 * Prepares the files side of jobs about to get their Kubernetes Job, from the store the
 * process has (`OBJECT_STORE`). Object storage: presigned GETs of input archives
 * (INPUTS_URL_TTL_SECONDS: roam admits a job only when it can start, and a retry is a new Job
 * with a fresh URL) and a presigned PUT per attempt for the results archive. PVC mode: the
 * tenant's claim, and the archive's path on it. No store: nothing is kept. A job with
 * `inputs_from_dependencies` (object storage) also gets its dependencies' results; it is left
 * out of the answer while those are not stored yet, and offered again later.
 */
@Injectable()
export class JobFilesService {
  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    private readonly dependencyInputs: DependencyInputsService,
  ) {}

  async forJobs(jobs: readonly JobFilesRequest[]): Promise<Map<string, JobFiles>> {
    const found = new Map<string, JobFiles>();
    const { store } = this;
    const disk: PodDisk = {
      workSizeLimit: this.config.JOB_WORK_SIZE_LIMIT,
      helperEphemeralStorage: this.config.JOB_HELPER_EPHEMERAL_STORAGE,
    };
    if (!store) {
      for (const job of jobs) found.set(job.id, { disk });
      return found;
    }
    const image = this.config.INPUTS_FETCHER_IMAGE;
    for (const job of jobs) {
      if (store.kind === 'pvc') {
        const key = job.inputsKey;
        found.set(job.id, {
          disk,
          claim: RESULTS_CLAIM,
          // The PVC layout keeps a job's inputs at inputs/<job>/ on its tenant's volume.
          ...(key
            ? {
                inputs: {
                  file: `inputs/${job.id}/${key.split('/').pop()!}`,
                  format: inputsFormatOf(key),
                  image,
                },
              }
            : {}),
        });
        continue;
      }
      if (this.config.ROAM_ADMISSION === 'kueue') {
        // The URLs are minted at admission (urlsAtAdmission): only the helpers are placed now.
        found.set(job.id, {
          disk,
          urlsAtAdmission: true,
          ...(job.inputsKey ? { inputs: { format: inputsFormatOf(job.inputsKey), image } } : {}),
          ...(job.inputsFromDependencies ? { deps: { image } } : {}),
          results: { image: this.config.RESULTS_UPLOADER_IMAGE, multiPod: !!job.resultSlots },
        });
        continue;
      }
      let deps: DependencyInputs | undefined;
      if (job.inputsFromDependencies) {
        deps = await this.dependencyInputs.prepare(store, job);
        if (!deps) continue;
      }
      const urls = await presignJobFiles(store, job, this.config.INPUTS_URL_TTL_SECONDS);
      found.set(job.id, {
        disk,
        ...(urls.inputs ? { inputs: { ...urls.inputs, image } } : {}),
        ...(deps ? { deps: { ...deps, image } } : {}),
        ...(urls.resultsUploadUrl
          ? {
              results: {
                uploadUrl: urls.resultsUploadUrl,
                image: this.config.RESULTS_UPLOADER_IMAGE,
              },
            }
          : {}),
        ...(urls.resultsManifestUrl
          ? {
              results: {
                manifestUrl: urls.resultsManifestUrl,
                multiPod: true,
                image: this.config.RESULTS_UPLOADER_IMAGE,
              },
            }
          : {}),
      });
    }
    return found;
  }

  /**
   * ROAM_ADMISSION=kueue: the annotations carrying one attempt's URLs, minted now (at
   * admission), each valid as long as in roam mode from here. Undefined while a dependency's
   * results are not stored yet (the check stays Pending and is answered later). Nothing to
   * mint without object storage (PVC mode reads the tenant volume).
   */
  async urlAnnotations(job: JobFilesRequest): Promise<Record<string, string> | undefined> {
    const { store } = this;
    if (!store || store.kind === 'pvc') return {};
    let deps: DependencyInputs | undefined;
    if (job.inputsFromDependencies) {
      deps = await this.dependencyInputs.prepare(store, job);
      if (!deps) return undefined;
    }
    const urls = await presignJobFiles(store, job, this.config.INPUTS_URL_TTL_SECONDS);
    return {
      ...(urls.inputs ? { [FILE_URL_ANNOTATIONS.inputs]: urls.inputs.url } : {}),
      ...(urls.resultsUploadUrl ? { [FILE_URL_ANNOTATIONS.results]: urls.resultsUploadUrl } : {}),
      ...(urls.resultsManifestUrl
        ? { [FILE_URL_ANNOTATIONS.resultsManifest]: urls.resultsManifestUrl }
        : {}),
      ...(deps && 'error' in deps ? { [FILE_URL_ANNOTATIONS.depsError]: deps.error } : {}),
      ...(deps && 'manifestUrl' in deps
        ? { [FILE_URL_ANNOTATIONS.depsManifest]: deps.manifestUrl }
        : {}),
    };
  }
}
