import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import { attemptOf, Kube, type KubernetesObject, ROAM_LABELS } from '@roam/kube';
import {
  ArchiveRejected,
  globMatcher,
  listAll,
  logKey,
  ObjectNotFound,
  type ObjectStore,
  resultKey,
  resultsPrefix,
  RESULTS_UPLOAD_DIR,
  resultsUploadKey,
  tarGzFiles,
} from '@roam/object-store';
import { APP_CONFIG, LOGGER, OBJECT_STORE } from '@roam/runtime';
import type { Logger } from 'pino';

import { contentTypeOf } from './content-types.js';
import type { StorageConfig } from './storage.config.js';
import { type JobForStorage, type NewResultFile, StorageRepository } from './storage.repository.js';

const MAIN_CONTAINER = 'main';

type Pod = KubernetesObject & { metadata?: { labels?: Record<string, string> } };

/** Files up to this size are read whole and put concurrently; larger ones stream. */
const SMALL_FILE_BYTES = 1024 * 1024;
const PUTS_IN_FLIGHT = 16;
const ROWS_PER_STATEMENT = 500;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Result rows written in batches of ROWS_PER_STATEMENT. */
class ResultRows {
  private pending: NewResultFile[] = [];
  count = 0;

  constructor(private readonly repository: StorageRepository) {}

  async add(row: NewResultFile): Promise<void> {
    this.pending.push(row);
    this.count += 1;
    if (this.pending.length >= ROWS_PER_STATEMENT) await this.flush();
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    await this.repository.saveResults(batch);
  }
}

/** Runs tasks with at most `limit` in flight; the first failure surfaces on the next call. */
class Bounded {
  private readonly running = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(private readonly limit: number) {}

  async run(task: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.running.size >= this.limit) await Promise.race(this.running);
    const done: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure;
  }
}

/** Counts and hashes bytes on their way through. */
function digesting(): Transform & { hex: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return Object.assign(stream, { hex: () => hash.digest('hex'), bytes: () => bytes });
}

/**
 * What happens when a job ends: its results are put under `tenants/<t>/jobs/<j>/results/` and
 * indexed in `result_files` (filtered by the template's result patterns), and every attempt's
 * log is archived to `…/logs/attempt-<n>.log` and recorded in `log_archives`, while the pods
 * still exist. Idempotent: a redelivered event rewrites the same keys and rows.
 *
 * Results arrive one of two ways (docs/storage.md): with object storage the pod's
 * `roam-results` sidecar has PUT its results directory as one archive
 * (`results/.roam/attempt-<n>.tar.gz`), which is unpacked here file by file, streaming; in
 * PVC mode the job wrote straight to its tenant's volume, and what is there is indexed.
 */
@Injectable()
export class StorageService {
  constructor(
    private readonly repository: StorageRepository,
    private readonly kube: Kube,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: StorageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async jobFinished(jobId: string): Promise<void> {
    const store = this.store;
    if (!store) return;
    const job = await this.repository.job(jobId);
    if (!job) return;
    const pods = await this.podsOf(job);
    await this.archiveLogs(store, job, pods);
    const collected = await this.collectResults(store, job);
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

  private async collectResults(store: ObjectStore, job: JobForStorage): Promise<number> {
    const keep = job.patterns.length > 0 ? globMatcher(job.patterns) : () => true;
    const upload = resultsUploadKey(job.tenantId, job.id, job.attempt);
    // One request either way: the upload's body, or the sign there is none (PVC mode).
    const body = await store.get(upload).catch((error: unknown) => {
      if (error instanceof ObjectNotFound) return undefined;
      throw error;
    });
    if (body) return this.unpackUpload(store, job, upload, body, keep);
    return this.indexStored(store, job, keep);
  }

  /**
   * The sidecar's archive of the last attempt, unpacked file by file into `results/`. Small
   * files are read whole and put up to PUTS_IN_FLIGHT at a time while the archive reads on;
   * large ones stream through a hash straight into the store. Rows go in batches.
   */
  private async unpackUpload(
    store: ObjectStore,
    job: JobForStorage,
    upload: string,
    body: Readable,
    keep: (path: string) => boolean,
  ): Promise<number> {
    const limits = {
      maxEntries: this.config.RESULTS_MAX_FILES,
      maxUncompressedBytes: this.config.RESULTS_MAX_UNCOMPRESSED_MB * 1024 * 1024,
    };
    const rows = new ResultRows(this.repository);
    const puts = new Bounded(PUTS_IN_FLIGHT);
    try {
      for await (const file of tarGzFiles(body, limits)) {
        if (!keep(file.path) || file.path.startsWith(RESULTS_UPLOAD_DIR)) {
          file.content.resume();
          continue;
        }
        const key = resultKey(job.tenantId, job.id, file.path);
        const contentType = contentTypeOf(file.path);
        const row = { jobId: job.id, tenantId: job.tenantId, path: file.path, contentType };
        if (file.size <= SMALL_FILE_BYTES) {
          const chunks: Buffer[] = [];
          for await (const chunk of file.content) chunks.push(chunk as Buffer);
          const body = Buffer.concat(chunks);
          await puts.run(async () => {
            await store.put(key, body, body.length, contentType);
            await rows.add({ ...row, size: body.length, checksum: sha256(body), storageKey: key });
          });
        } else {
          const digest = digesting();
          await store.put(key, file.content.pipe(digest), file.size, contentType);
          await rows.add({ ...row, size: digest.bytes(), checksum: digest.hex(), storageKey: key });
        }
      }
      await puts.drain();
      await rows.flush();
    } catch (error) {
      await puts.drain().catch(() => undefined);
      await rows.flush();
      if (!(error instanceof ArchiveRejected)) throw error;
      // Nothing a retry could fix: say so, keep what was unpacked and the archive to look at.
      this.logger.warn(
        { jobId: job.id, tenantId: job.tenantId, key: upload, code: error.code, err: error },
        'the results upload could not be unpacked',
      );
      return rows.count;
    }
    // Every attempt's upload goes once the last one is unpacked (retries leave theirs too).
    await store.removePrefix(`${resultsPrefix(job.tenantId, job.id)}${RESULTS_UPLOAD_DIR}`);
    return rows.count;
  }

  /** Files already under `results/` (PVC mode: the job wrote to its tenant volume). */
  private async indexStored(
    store: ObjectStore,
    job: JobForStorage,
    keep: (path: string) => boolean,
  ): Promise<number> {
    const rows = new ResultRows(this.repository);
    const prefix = resultsPrefix(job.tenantId, job.id);
    for await (const object of listAll(store, prefix)) {
      const path = object.key.slice(prefix.length);
      if (path.startsWith(RESULTS_UPLOAD_DIR) || !keep(path)) continue;
      const hash = createHash('sha256');
      for await (const chunk of await store.get(object.key)) hash.update(chunk as Buffer);
      await rows.add({
        jobId: job.id,
        tenantId: job.tenantId,
        path,
        size: object.size,
        checksum: hash.digest('hex'),
        contentType: contentTypeOf(path),
        storageKey: object.key,
      });
    }
    await rows.flush();
    return rows.count;
  }
}
