import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { attemptOf, Kube, type KubernetesObject, ROAM_LABELS } from '@roam/kube';
import {
  globMatcher,
  listAll,
  logKey,
  type ObjectStore,
  resultKey,
  resultsPrefix,
} from '@roam/object-store';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import { contentTypeOf } from './content-types.js';
import { OBJECT_STORE } from '@roam/runtime';
import { POD_FILES, type PodFiles } from './results/pod-files.js';
import { type JobForStorage, StorageRepository } from './storage.repository.js';

/** Where the job's main container leaves its results (apps/scheduler/src/admission/inputs.ts). */
const RESULTS_DIR = '/roam/results';
const MAIN_CONTAINER = 'main';

type Pod = KubernetesObject & { metadata?: { labels?: Record<string, string> } };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * What happens when a job ends: its results are put under `tenants/<t>/jobs/<j>/results/` and
 * indexed in `result_files` (filtered by the template's result patterns), and every attempt's
 * log is archived to `…/logs/attempt-<n>.log` and recorded in `log_archives`, while the pods
 * still exist. Idempotent: a redelivered event rewrites the same keys and rows.
 */
@Injectable()
export class StorageService {
  constructor(
    private readonly repository: StorageRepository,
    private readonly kube: Kube,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(POD_FILES) private readonly podFiles: PodFiles,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async jobFinished(jobId: string): Promise<void> {
    const store = this.store;
    if (!store) return;
    const job = await this.repository.job(jobId);
    if (!job) return;
    const pods = await this.podsOf(job);
    await this.archiveLogs(store, job, pods);
    const latest = pods.find((p) => attemptOf(p.metadata?.labels) === job.attempt);
    const collected = await this.collectResults(store, job, latest);
    this.logger.info(
      { jobId, tenantId: job.tenantId, results: collected, pods: pods.length },
      'stored results and logs of a finished job',
    );
  }

  private async podsOf(job: JobForStorage): Promise<Pod[]> {
    const page = await this.kube.list<Pod>('v1', 'Pod', {
      namespace: job.namespace,
      labelSelector: `${ROAM_LABELS.jobId}=${job.id}`,
    });
    return page.items;
  }

  private async archiveLogs(store: ObjectStore, job: JobForStorage, pods: Pod[]): Promise<void> {
    const done = await this.repository.archivedAttempts(job.id);
    for (const pod of pods) {
      const attempt = attemptOf(pod.metadata?.labels);
      if (attempt === undefined || done.has(attempt)) continue;
      const text = await this.kube.logs(job.namespace, pod.metadata!.name!, {
        container: MAIN_CONTAINER,
        timestamps: true,
      });
      const body = Buffer.from(text, 'utf8');
      const key = logKey(job.tenantId, job.id, attempt);
      await store.put(key, body, body.length, 'text/plain; charset=utf-8');
      await this.repository.saveLogArchive({
        jobId: job.id,
        attempt,
        tenantId: job.tenantId,
        storageKey: key,
        size: body.length,
      });
    }
  }

  private async collectResults(
    store: ObjectStore,
    job: JobForStorage,
    pod: Pod | undefined,
  ): Promise<number> {
    const keep = job.patterns.length > 0 ? globMatcher(job.patterns) : () => true;
    let count = 0;
    if (pod) {
      // Simulator: the pod's file store; a real pod already uploaded (sidecar) and reads as [].
      for (const file of await this.podFiles.read(
        job.namespace,
        pod.metadata!.name!,
        RESULTS_DIR,
      )) {
        if (!keep(file.path)) continue;
        const key = resultKey(job.tenantId, job.id, file.path);
        const contentType = contentTypeOf(file.path);
        await store.put(key, file.content, file.content.length, contentType);
        await this.repository.saveResult({
          jobId: job.id,
          tenantId: job.tenantId,
          path: file.path,
          size: file.content.length,
          checksum: sha256(file.content),
          contentType,
          storageKey: key,
        });
        count += 1;
      }
      if (count > 0) return count;
    }
    // Objects already under the results prefix (uploader sidecar, or the PVC in PVC mode).
    const prefix = resultsPrefix(job.tenantId, job.id);
    for await (const object of listAll(store, prefix)) {
      const path = object.key.slice(prefix.length);
      if (!keep(path)) continue;
      const hash = createHash('sha256');
      for await (const chunk of await store.get(object.key)) hash.update(chunk as Buffer);
      await this.repository.saveResult({
        jobId: job.id,
        tenantId: job.tenantId,
        path,
        size: object.size,
        checksum: hash.digest('hex'),
        contentType: contentTypeOf(path),
        storageKey: object.key,
      });
      count += 1;
    }
    return count;
  }
}
