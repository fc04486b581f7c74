import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { type ObjectStore, objectStoreFromConfig } from '@roam/object-store';
import { APP_CONFIG, PRISMA } from '@roam/runtime';

import type { SchedulerConfig } from '../scheduler.config.js';

/** Where a roam job finds its unpacked inputs and leaves its results (docs/storage.md). */
export const INPUTS_DIR = '/roam/inputs';
export const RESULTS_DIR = '/roam/results';
/** The init container that fetches and unpacks the inputs; the simulator's kubelet knows it by name. */
export const INPUTS_CONTAINER = 'roam-inputs';
const WORK_VOLUME = 'roam-work';

/** A job's input archive, as the fetcher gets it: a short-lived presigned GET URL. */
export interface InputsFetch {
  url: string;
  format: 'zip' | 'tar.gz';
  image: string;
}

/**
 * What the fetcher runs (busybox has wget, unzip and tar). The archive was checked at upload
 * (no absolute or `..` paths, size caps), so unpacking it as is is safe.
 */
const FETCH_SCRIPT = [
  'set -eu',
  'mkdir -p "$ROAM_INPUTS_DIR"',
  'wget -q -O /tmp/roam-inputs "$ROAM_INPUTS_URL"',
  'if [ "$ROAM_INPUTS_FORMAT" = zip ]; then unzip -o -q /tmp/roam-inputs -d "$ROAM_INPUTS_DIR"; else tar -xzf /tmp/roam-inputs -C "$ROAM_INPUTS_DIR"; fi',
  'rm -f /tmp/roam-inputs',
].join('\n');

interface PodSpecLike {
  containers: { env?: { name: string; value: string }[]; volumeMounts?: unknown[] }[];
  initContainers?: unknown[];
  volumes?: unknown[];
}

/**
 * Gives a job's pod its working directories: an emptyDir at `/roam` (inputs and results),
 * `ROAM_INPUTS_DIR`/`ROAM_RESULTS_DIR` in the main container's env, and — when the job has an
 * input archive — the `roam-inputs` init container that unpacks it there. No ConfigMap, so no
 * 1 MB limit: the archive travels straight from object storage into the pod.
 */
export function withJobFiles<T extends PodSpecLike>(spec: T, inputs: InputsFetch | undefined): T {
  const mount = { name: WORK_VOLUME, mountPath: '/roam' };
  const dirs = [
    { name: 'ROAM_INPUTS_DIR', value: INPUTS_DIR },
    { name: 'ROAM_RESULTS_DIR', value: RESULTS_DIR },
  ];
  return {
    ...spec,
    volumes: [...(spec.volumes ?? []), { name: WORK_VOLUME, emptyDir: {} }],
    ...(inputs
      ? {
          initContainers: [
            ...(spec.initContainers ?? []),
            {
              name: INPUTS_CONTAINER,
              image: inputs.image,
              command: ['sh', '-c', FETCH_SCRIPT],
              env: [
                { name: 'ROAM_INPUTS_URL', value: inputs.url },
                { name: 'ROAM_INPUTS_FORMAT', value: inputs.format },
                { name: 'ROAM_INPUTS_DIR', value: INPUTS_DIR },
              ],
              volumeMounts: [mount],
              resources: {
                requests: { cpu: '100m', memory: '64Mi' },
                limits: { memory: '256Mi' },
              },
            },
          ],
        }
      : {}),
    containers: spec.containers.map((c, i) =>
      i === 0
        ? {
            ...c,
            env: [...(c.env ?? []), ...dirs],
            volumeMounts: [...(c.volumeMounts ?? []), mount],
          }
        : c,
    ),
  };
}

/**
 * Presigns the input archives of jobs about to get their Kubernetes Job, from `jobs.inputs_key`.
 * The URL lives INPUTS_URL_TTL_SECONDS: roam admits a job only when it can start, so the pod
 * fetches within seconds; a retry is a new Job with a fresh URL.
 */
@Injectable()
export class JobInputs {
  private store: Promise<ObjectStore | undefined> | undefined;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  async forJobs(ids: readonly string[]): Promise<Map<string, InputsFetch>> {
    const found = new Map<string, InputsFetch>();
    if (ids.length === 0) return found;
    const rows = await this.prisma.job.findMany({
      where: { id: { in: [...ids] }, inputsKey: { not: null } },
      select: { id: true, inputsKey: true },
    });
    if (rows.length === 0) return found;
    this.store ??= objectStoreFromConfig(this.config);
    const store = await this.store;
    if (!store) throw new Error('jobs have input archives but S3_ENDPOINT is not set');
    for (const row of rows) {
      const url = await store.presignGet(row.inputsKey!, this.config.INPUTS_URL_TTL_SECONDS);
      if (!url) continue;
      found.set(row.id, {
        url,
        format: row.inputsKey!.endsWith('.zip') ? 'zip' : 'tar.gz',
        image: this.config.INPUTS_FETCHER_IMAGE,
      });
    }
    return found;
  }
}
