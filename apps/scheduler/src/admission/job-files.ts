import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import {
  type ObjectStore,
  objectStoreFromConfig,
  JOB_INPUTS_DIR,
  JOB_RESULTS_DIR,
  RESULTS_SIDECAR_SCRIPT,
  resultsUploadKey,
  resultsUploadTtl,
} from '@roam/object-store';
import { APP_CONFIG, PRISMA } from '@roam/runtime';

import type { SchedulerConfig } from '../scheduler.config.js';

const INPUTS_DIR = JOB_INPUTS_DIR;
const RESULTS_DIR = JOB_RESULTS_DIR;
/** The init container that fetches and unpacks the inputs; the simulator's kubelet knows it by name. */
export const INPUTS_CONTAINER = 'roam-inputs';
/** The native sidecar that uploads the results directory when main has exited. */
export const RESULTS_CONTAINER = 'roam-results';
/** PVC mode: each tenant's results volume (DESIGN.md: "a results PVC when results are kept on a PVC"). */
export const RESULTS_CLAIM = 'roam-results';
const WORK_VOLUME = 'roam-work';
const CLAIM_VOLUME = 'roam-results-volume';
/** Where the inputs fetcher mounts the tenant volume in PVC mode. */
const VOLUME_MOUNT = '/roam-volume';

/** How one job's pod gets its inputs and gives back its results. */
export interface JobFiles {
  /** The input archive: a presigned GET (object storage) or a path on the tenant volume (PVC). */
  inputs?: { url?: string; file?: string; format: 'zip' | 'tar.gz'; image: string };
  /** Object storage: the presigned PUT the results sidecar uploads the results archive to. */
  results?: { uploadUrl: string; image: string };
  /** PVC mode: the tenant's results claim, mounted at RESULTS_DIR with `results/<job>` as subPath. */
  claim?: string;
}

/**
 * What the fetcher runs (busybox has wget, unzip and tar). The archive was checked at upload
 * (no absolute or `..` paths, size caps), so unpacking it as is is safe.
 */
const FETCH_SCRIPT = [
  'set -eu',
  'mkdir -p "$ROAM_INPUTS_DIR"',
  'if [ -n "${ROAM_INPUTS_FILE:-}" ]; then cp "$ROAM_INPUTS_FILE" /tmp/roam-inputs; else wget -q -O /tmp/roam-inputs "$ROAM_INPUTS_URL"; fi',
  'if [ "$ROAM_INPUTS_FORMAT" = zip ]; then unzip -o -q /tmp/roam-inputs -d "$ROAM_INPUTS_DIR"; else tar -xzf /tmp/roam-inputs -C "$ROAM_INPUTS_DIR"; fi',
  'rm -f /tmp/roam-inputs',
].join('\n');

interface PodSpecLike {
  containers: { env?: { name: string; value: string }[]; volumeMounts?: unknown[] }[];
  initContainers?: unknown[];
  volumes?: unknown[];
}

const helperResources = {
  requests: { cpu: '100m', memory: '64Mi' },
  limits: { memory: '256Mi' },
};

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
    { name: 'ROAM_INPUTS_DIR', value: INPUTS_DIR },
    { name: 'ROAM_RESULTS_DIR', value: RESULTS_DIR },
  ];
  const { inputs, results, claim } = files;
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
          : { name: 'ROAM_INPUTS_URL', value: inputs.url ?? '' },
        { name: 'ROAM_INPUTS_FORMAT', value: inputs.format },
        { name: 'ROAM_INPUTS_DIR', value: INPUTS_DIR },
      ],
      volumeMounts: inputs.file && claim ? [work, volume] : [work],
      resources: helperResources,
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
        { name: 'ROAM_RESULTS_UPLOAD_URL', value: results.uploadUrl },
        { name: 'ROAM_RESULTS_DIR', value: RESULTS_DIR },
      ],
      volumeMounts: [work],
      // Nothing requested, so the sidecar never changes where (or whether) the job fits.
      resources: { requests: { cpu: '0', memory: '0' }, limits: { memory: '256Mi' } },
    });
  const resultsMount = claim
    ? [{ name: CLAIM_VOLUME, mountPath: RESULTS_DIR, subPath: `results/${jobId}` }]
    : [];
  return {
    ...spec,
    volumes: [
      ...(spec.volumes ?? []),
      { name: WORK_VOLUME, emptyDir: {} },
      ...(claim ? [{ name: CLAIM_VOLUME, persistentVolumeClaim: { claimName: claim } }] : []),
    ],
    ...(initContainers.length > 0 ? { initContainers } : {}),
    containers: spec.containers.map((c, i) =>
      i === 0
        ? {
            ...c,
            env: [...(c.env ?? []), ...dirs],
            volumeMounts: [...(c.volumeMounts ?? []), work, ...resultsMount],
          }
        : c,
    ),
  };
}

export type ResultsMode = 's3' | 'pvc' | 'none';

/** `s3` with S3_ENDPOINT, `pvc` with RESULTS_PVC_ROOT alone, else `none` (files not kept). */
export function resultsMode(
  config: Pick<SchedulerConfig, 'S3_ENDPOINT' | 'RESULTS_PVC_ROOT'>,
): ResultsMode {
  if (config.S3_ENDPOINT) return 's3';
  return config.RESULTS_PVC_ROOT ? 'pvc' : 'none';
}

/** What the scheduler knows of a job about to get its Kubernetes Job. */
export interface JobFilesRequest {
  id: string;
  tenantId: string;
  attempt: number;
  /** The Job's activeDeadlineSeconds: the results URL must outlive the run. */
  deadlineSeconds: number;
}

/**
 * Prepares the files side of jobs about to get their Kubernetes Job. With object storage:
 * presigned GETs of input archives (`jobs.inputs_key`, INPUTS_URL_TTL_SECONDS: roam admits a
 * job only when it can start, and a retry is a new Job with a fresh URL) and a presigned PUT
 * per attempt for the results archive (valid for the job's deadline and an hour, at most the
 * 7 days S3 allows). In PVC mode: the tenant's claim, and the archive's path on it.
 */
@Injectable()
export class JobFilesService {
  private store: Promise<ObjectStore | undefined> | undefined;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  get mode(): ResultsMode {
    return resultsMode(this.config);
  }

  async forJobs(jobs: readonly JobFilesRequest[]): Promise<Map<string, JobFiles>> {
    const found = new Map<string, JobFiles>();
    if (jobs.length === 0 || this.mode === 'none') return found;
    const rows = await this.prisma.job.findMany({
      where: { id: { in: jobs.map((job) => job.id) }, inputsKey: { not: null } },
      select: { id: true, inputsKey: true },
    });
    const inputKeys = new Map(rows.map((row) => [row.id, row.inputsKey!]));
    const formatOf = (key: string): 'zip' | 'tar.gz' => (key.endsWith('.zip') ? 'zip' : 'tar.gz');
    if (this.mode === 'pvc') {
      for (const job of jobs) {
        const key = inputKeys.get(job.id);
        found.set(job.id, {
          claim: RESULTS_CLAIM,
          ...(key
            ? {
                inputs: {
                  // The PVC layout keeps a job's inputs at inputs/<job>/ on its tenant's volume.
                  file: `inputs/${job.id}/${key.split('/').pop()!}`,
                  format: formatOf(key),
                  image: this.config.INPUTS_FETCHER_IMAGE,
                },
              }
            : {}),
        });
      }
      return found;
    }
    this.store ??= objectStoreFromConfig(this.config);
    const store = await this.store;
    if (!store) return found;
    for (const job of jobs) {
      const key = inputKeys.get(job.id);
      const url = key ? await store.presignGet(key, this.config.INPUTS_URL_TTL_SECONDS) : undefined;
      const uploadUrl = await store.presignPut(
        resultsUploadKey(job.tenantId, job.id, job.attempt),
        resultsUploadTtl(job.deadlineSeconds),
      );
      found.set(job.id, {
        ...(key && url
          ? { inputs: { url, format: formatOf(key), image: this.config.INPUTS_FETCHER_IMAGE } }
          : {}),
        ...(uploadUrl ? { results: { uploadUrl, image: this.config.RESULTS_UPLOADER_IMAGE } } : {}),
      });
    }
    return found;
  }
}
