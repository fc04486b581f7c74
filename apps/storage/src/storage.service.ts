import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';

import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  attemptOf,
  Kube,
  KubeError,
  type KubernetesObject,
  REPLICA_POD_LABELS,
  replicaOfPod,
  ROAM_LABELS,
} from '@roam/kube';
import {
  ArchiveRejected,
  globMatcher,
  listAll,
  logKey,
  ObjectNotFound,
  type ObjectStore,
  replicaLogKey,
  replicaResultsUploadKey,
  resultKey,
  resultsPrefix,
  RESULTS_UPLOAD_DIR,
  resultsUploadKey,
  resultsUploadManifestKey,
  tarGzFiles,
} from '@roam/object-store';
import { APP_CONFIG, LOGGER, OBJECT_STORE } from '@roam/runtime';
import { metrics, secondsSince } from '@roam/telemetry';
import type { Logger } from 'pino';

import { contentTypeOf } from './content-types.js';
import { inWindows, linesOf, type LogSource, mergeByTime, wholeLogLine } from './replica-logs.js';
import { attemptLeftNoResults, type SidecarStatuses } from './results-sidecar.js';
import type { StorageConfig } from './storage.config.js';
import {
  type JobForStorage,
  type NewLogArchive,
  type NewResultFile,
  StorageRepository,
  type StoredJob,
} from './storage.repository.js';

const MAIN_CONTAINER = 'main';

type Pod = KubernetesObject &
  SidecarStatuses & {
    metadata?: { labels?: Record<string, string>; creationTimestamp?: string };
  };

/** Files up to this size are read whole and put concurrently; larger ones stream. */
const SMALL_FILE_BYTES = 1024 * 1024;
const PUTS_IN_FLIGHT = 16;
/** Replicas whose pods' logs are read (and their replica log written) at once. */
const LOG_READS_IN_FLIGHT = 8;
const ROWS_PER_STATEMENT = 500;
/**
 * Jobs whose pods one list call asks for (`job-id in (…)`): one call for many jobs of a
 * namespace instead of one each, with a selector of a few kB.
 */
const JOBS_PER_POD_LIST = 50;

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
export class Bounded {
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

/** At most `limit` tasks inside `use` at once; the others wait their turn, in order. */
export class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];

  constructor(limit: number) {
    this.free = limit;
  }

  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free += 1;
    }
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

/** What storing one job produced, written for the whole batch at once. */
interface Outcome {
  logs: NewLogArchive[];
  stored?: StoredJob;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** The job's attempts whose log is still to archive: over (a later one exists, or the job has finished), with no row. */
function attemptsOver(job: JobForStorage): number[] {
  const finished = FINISHED.has(job.status);
  const over: number[] = [];
  for (let attempt = 1; attempt <= job.attempt; attempt += 1)
    if ((attempt < job.attempt || finished) && !job.archived.has(attempt)) over.push(attempt);
  return over;
}

/**
 * Keeps what a job's pods hold before the reconciler deletes them (docs/storage.md):
 *
 * - every attempt's log, as soon as the attempt is over (a retried attempt included), to
 *   `…/logs/attempt-<n>.log`, recorded in `log_archives`; a log that can never be read (the pod
 *   is gone, its container never started) is recorded with the reason, so deletion is not held
 *   forever;
 * - the last attempt's results, once the job has succeeded or failed, under `…/results/`,
 *   indexed in `result_files` (filtered by the template's result patterns); then the job is
 *   marked `stored_at` (with `results_error` when the results could not be read).
 *
 * Results arrive one of two ways: with object storage the pod's `roam-results` sidecar has PUT
 * its results directory as one archive (`results/.roam/attempt-<n>.tar.gz`), unpacked here
 * file by file, streaming; in PVC mode the job wrote straight to its tenant's volume, and what
 * is there is indexed.
 *
 * Requests (events, the sweep) are queued and taken in batches: one query loads a batch's
 * jobs, STORAGE_CONCURRENCY jobs are stored at once (of which STORAGE_UNPACK_CONCURRENCY may
 * be unpacking results, the part that holds memory), and the batch's rows are written in one
 * statement each. Idempotent and resumable: keys and rows are upserts, an attempt already
 * archived is skipped, result files already indexed are not put again, and a job is marked
 * stored only once everything is.
 */
@Injectable()
export class StorageService implements OnModuleDestroy {
  private readonly waiting = new Map<string, Waiter[]>();
  private draining: Promise<void> | undefined;
  private stopped = false;
  private readonly unpacking: Slots;

  constructor(
    private readonly repository: StorageRepository,
    private readonly kube: Kube,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: StorageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.unpacking = new Slots(config.STORAGE_UNPACK_CONCURRENCY);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.draining;
  }

  /** Stores what there is to store of the job; resolves once it is written. */
  storeJob(jobId: string): Promise<void> {
    return this.storeJobs([jobId]);
  }

  /** Same, for many jobs; they join the queue and are stored in batches. */
  storeJobs(jobIds: readonly string[]): Promise<void> {
    if (!this.store || jobIds.length === 0) return Promise.resolve();
    const done = jobIds.map(
      (jobId) =>
        new Promise<void>((resolve, reject) => {
          const list = this.waiting.get(jobId) ?? [];
          list.push({ resolve, reject });
          this.waiting.set(jobId, list);
        }),
    );
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.drain(),
    );
    return Promise.all(done).then(() => undefined);
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.size > 0) {
        const batch = new Map([...this.waiting.entries()].slice(0, this.config.STORAGE_BATCH));
        for (const id of batch.keys()) this.waiting.delete(id);
        if (this.stopped) {
          for (const waiters of batch.values())
            for (const waiter of waiters) waiter.reject(new Error('the storage worker stopped'));
          continue;
        }
        await this.storeBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async storeBatch(batch: Map<string, Waiter[]>): Promise<void> {
    const settle = (ids: Iterable<string>, error?: unknown) => {
      for (const id of ids)
        for (const waiter of batch.get(id) ?? []) {
          if (error === undefined) waiter.resolve();
          else waiter.reject(error);
        }
    };
    let jobs: JobForStorage[];
    try {
      jobs = await this.repository.jobs([...batch.keys()]);
    } catch (error) {
      settle(batch.keys(), error);
      return;
    }
    const found = new Set(jobs.map((job) => job.id));
    // A job that no longer exists (its tenant was deleted) has nothing left to store.
    settle([...batch.keys()].filter((id) => !found.has(id)));
    const outcomes = new Map<string, Outcome>();
    const failures = new Map<string, unknown>();
    const pods = this.podsOfJobs(jobs);
    const work = new Bounded(this.config.STORAGE_CONCURRENCY);
    for (const job of jobs) {
      await work.run(async () => {
        const outcome: Outcome = { logs: [] };
        try {
          await this.storeOne(job, outcome, pods);
        } catch (error) {
          failures.set(job.id, error);
          this.logger.warn(
            { jobId: job.id, tenantId: job.tenantId, err: error },
            'could not store the job yet; it is retried',
          );
        }
        // Logs archived before a failure are recorded all the same: a retry skips them.
        outcomes.set(job.id, outcome);
      });
    }
    await work.drain();
    const all = [...outcomes.values()];
    try {
      await this.repository.saveLogArchives(all.flatMap((outcome) => outcome.logs));
      await this.repository.markStored(
        all.flatMap((outcome) => (outcome.stored ? [outcome.stored] : [])),
      );
    } catch (error) {
      settle(found, error);
      return;
    }
    for (const [id, outcome] of outcomes) {
      if (outcome.stored) metrics.storageJobsStored.inc();
      const failure = failures.get(id);
      settle([id], failure);
    }
  }

  /** One job: the logs of its attempts that are over, then (finished) its results. */
  private async storeOne(
    job: JobForStorage,
    outcome: Outcome,
    podsOfJobs: Map<string, Promise<Map<number, Pod[]>>>,
  ): Promise<void> {
    const store = this.store!;
    const started = performance.now();
    const finished = FINISHED.has(job.status);
    if (finished && job.storedAt) return;
    const over = attemptsOver(job);
    let pods = 0;
    // Read from the last attempt's pods when its log is archived now (they are at hand). PVC
    // mode has no uploads and so no sidecar to say so.
    let noResults = false;
    if (over.length > 0) {
      const byAttempt =
        (await podsOfJobs.get(job.id)) ??
        (await this.podsByJob(job.namespace, [job.id])).get(job.id) ??
        new Map<number, Pod[]>();
      pods = byAttempt.size;
      noResults = store.kind !== 'pvc' && attemptLeftNoResults(byAttempt.get(job.attempt));
      for (const attempt of over)
        outcome.logs.push(
          job.resultSlots
            ? await this.archiveReplicaLogs(store, job, attempt, byAttempt.get(attempt) ?? [])
            : await this.archiveLog(store, job, attempt, byAttempt.get(attempt)?.[0]),
        );
    }
    if (!finished) return;
    let results = 0;
    let resultsError: string | null = null;
    if (job.status !== 'cancelled') {
      const collected = await this.unpacking.use(() => this.collectResults(store, job, noResults));
      results = collected.count;
      resultsError = collected.error;
    }
    outcome.stored = { jobId: job.id, resultsError };
    metrics.storageDuration.observe(secondsSince(started));
    this.logger.info(
      { jobId: job.id, tenantId: job.tenantId, results, pods, logs: outcome.logs.length },
      'stored the results and logs of a finished job',
    );
  }

  /**
   * The pods by attempt of the batch's single-pod jobs with a log to archive: one list call per
   * JOBS_PER_POD_LIST jobs of a namespace (`job-id in (…)`), not one per job, started at once.
   * A job's entry fails when its call does (the job is then tried again). A multi-pod job lists
   * its own pods when its turn comes (there may be hundreds), so a batch never holds many
   * gangs' pods at once.
   */
  private podsOfJobs(jobs: readonly JobForStorage[]): Map<string, Promise<Map<number, Pod[]>>> {
    const byNamespace = new Map<string, string[]>();
    for (const job of jobs) {
      if (job.resultSlots || (FINISHED.has(job.status) && job.storedAt)) continue;
      if (attemptsOver(job).length === 0) continue;
      const ids = byNamespace.get(job.namespace) ?? [];
      ids.push(job.id);
      byNamespace.set(job.namespace, ids);
    }
    const result = new Map<string, Promise<Map<number, Pod[]>>>();
    for (const [namespace, ids] of byNamespace)
      for (let i = 0; i < ids.length; i += JOBS_PER_POD_LIST) {
        const chunk = ids.slice(i, i + JOBS_PER_POD_LIST);
        const listed = this.podsByJob(namespace, chunk);
        for (const id of chunk) {
          const pods = listed.then((byJob) => byJob.get(id) ?? new Map<number, Pod[]>());
          // Awaited by the job's turn; not an unhandled rejection while it waits for it.
          pods.catch(() => undefined);
          result.set(id, pods);
        }
      }
    return result;
  }

  /** The pods of the jobs by job, then attempt (every page of one selector). */
  private async podsByJob(
    namespace: string,
    jobIds: readonly string[],
  ): Promise<Map<string, Map<number, Pod[]>>> {
    const byJob = new Map<string, Map<number, Pod[]>>();
    const labelSelector =
      jobIds.length === 1
        ? `${ROAM_LABELS.jobId}=${jobIds[0]}`
        : `${ROAM_LABELS.jobId} in (${jobIds.join(',')})`;
    for await (const pod of this.kube.listAll<Pod>('v1', 'Pod', { namespace, labelSelector })) {
      const jobId = pod.metadata?.labels?.[ROAM_LABELS.jobId];
      const attempt = attemptOf(pod.metadata?.labels);
      if (jobId === undefined || attempt === undefined) continue;
      const byAttempt = byJob.get(jobId) ?? new Map<number, Pod[]>();
      const pods = byAttempt.get(attempt) ?? [];
      pods.push(pod);
      byAttempt.set(attempt, pods);
      byJob.set(jobId, byAttempt);
    }
    return byJob;
  }

  /** One pod's main log with timestamps; a log that can never be read says why instead. */
  private async podLog(
    job: JobForStorage,
    attempt: number,
    pod: Pod | undefined,
    what: string,
  ): Promise<{ text: string; error: string | null }> {
    try {
      if (!pod?.metadata?.name) throw new KubeError(404, 'NotFound', 'the pod no longer exists');
      const text = await this.kube.logs(job.namespace, pod.metadata.name, {
        container: MAIN_CONTAINER,
        timestamps: true,
      });
      return { text, error: null };
    } catch (failure) {
      if (!(failure instanceof KubeError) || (failure.status !== 404 && failure.status !== 400))
        throw failure;
      const error = `the log of ${what} could not be read: ${failure.message}`;
      this.logger.warn({ jobId: job.id, tenantId: job.tenantId, attempt, reason: error }, error);
      return { text: `${new Date().toISOString()} roam: ${error}\n`, error };
    }
  }

  /**
   * A multi-pod attempt's logs: each replica's pods (a replicated job's child Job may have
   * several, in completion-index order) as `logs/attempt-<n>/<replica>.log`, and the attempt's
   * whole log, every replica's lines merged by time, each after its timestamp marked
   * `[<replica>]`. Only the current JobSet restart's pods are read (older ones are gone or
   * replaced). No pods at all is recorded as an unreadable log, as for a single pod.
   * Bounded for a gang of hundreds of pods: LOG_READS_IN_FLIGHT replicas are read at once, each
   * held only until its log is stored, and the whole log is a k-way merge over the stored
   * replica logs (`mergeByTime`), so memory holds one line per pod, not every line.
   */
  private async archiveReplicaLogs(
    store: ObjectStore,
    job: JobForStorage,
    attempt: number,
    pods: readonly Pod[],
  ): Promise<NewLogArchive> {
    if (pods.length === 0) return this.archiveLog(store, job, attempt, undefined);
    const restart = (pod: Pod) =>
      Number(pod.metadata?.labels?.[REPLICA_POD_LABELS.restartAttempt] ?? 0);
    const latest = Math.max(...pods.map(restart));
    const byReplica = new Map<string, Pod[]>();
    for (const pod of pods) {
      const replica = replicaOfPod(pod.metadata?.labels);
      if (replica === undefined || restart(pod) !== latest) continue;
      const list = byReplica.get(replica) ?? [];
      list.push(pod);
      byReplica.set(replica, list);
    }
    const index = (pod: Pod) =>
      Number(pod.metadata?.labels?.[REPLICA_POD_LABELS.completionIndex] ?? 0);
    const replicas = [...byReplica];
    // Per replica, in order: its errors, and where each of its pods' lines lie in its log.
    const errors: string[][] = replicas.map(() => []);
    const sources: Omit<LogSource, 'lines'>[][] = replicas.map(() => []);
    const ranges: { start: number; bytes: number }[][] = replicas.map(() => []);
    let readPods = 0;
    let wholeBytes = 0;
    const reads = new Bounded(LOG_READS_IN_FLIGHT);
    for (const [order, [replica, replicaPods]] of replicas.entries()) {
      await reads.run(async () => {
        replicaPods.sort((a, b) => index(a) - index(b));
        const parts: Buffer[] = [];
        let offset = 0;
        let lines = 0;
        for (const pod of replicaPods) {
          const read = await this.podLog(
            job,
            attempt,
            pod,
            `replica ${replica} of attempt ${attempt}`,
          );
          readPods += 1;
          if (read.error) errors[order]!.push(read.error);
          const text = read.text.endsWith('\n') || read.text === '' ? read.text : `${read.text}\n`;
          const part = Buffer.from(text, 'utf8');
          parts.push(part);
          sources[order]!.push({ replica, order, firstLine: lines });
          ranges[order]!.push({ start: offset, bytes: part.length });
          offset += part.length;
          for (const line of text.split('\n')) {
            if (line === '') continue;
            lines += 1;
            wholeBytes += Buffer.byteLength(wholeLogLine(line, replica).text);
          }
        }
        await store.put(
          replicaLogKey(job.tenantId, job.id, attempt, replica),
          Readable.from(parts, { objectMode: false }),
          offset,
          'text/plain; charset=utf-8',
        );
      });
    }
    await reads.drain();
    // The whole log: a k-way merge by time over every pod's lines, read back from the replica
    // logs just stored (one line per pod in memory), written as it is merged.
    const merged = sources.flatMap((replicaSources, order) =>
      replicaSources.flatMap((source, i) => {
        const { start, bytes } = ranges[order]![i]!;
        if (bytes === 0) return [];
        const replicaKey = replicaLogKey(job.tenantId, job.id, attempt, source.replica);
        const lines = linesOf(
          inWindows((from, to) => store.get(replicaKey, { start: from, end: to }), start, bytes),
        );
        return [{ ...source, lines }];
      }),
    );
    const key = logKey(job.tenantId, job.id, attempt);
    await store.put(
      key,
      Readable.from(mergeByTime(merged), { objectMode: false }),
      wholeBytes,
      'text/plain; charset=utf-8',
    );
    const failed = errors.flat();
    return {
      jobId: job.id,
      attempt,
      tenantId: job.tenantId,
      storageKey: key,
      size: wholeBytes,
      // Recorded as failed only when no pod's log could be read.
      error: failed.length > 0 && failed.length === readPods ? failed.join('; ') : null,
    };
  }

  /**
   * Archives one attempt's log. A log that can never be read (no pod any more, a container
   * that never started) is recorded as such, with the reason in the object; anything else
   * (the API unreachable, the store failing) throws, and the job is tried again.
   */
  private async archiveLog(
    store: ObjectStore,
    job: JobForStorage,
    attempt: number,
    pod: Pod | undefined,
  ): Promise<NewLogArchive> {
    const key = logKey(job.tenantId, job.id, attempt);
    const { text, error } = await this.podLog(job, attempt, pod, `attempt ${attempt}`);
    const body = Buffer.from(text, 'utf8');
    await store.put(key, body, body.length, 'text/plain; charset=utf-8');
    return {
      jobId: job.id,
      attempt,
      tenantId: job.tenantId,
      storageKey: key,
      size: body.length,
      error,
    };
  }

  /**
   * `noResults`: the last attempt's results sidecar said it uploaded nothing, so the store is
   * not asked for the upload (one request less for most jobs).
   */
  private async collectResults(
    store: ObjectStore,
    job: JobForStorage,
    noResults: boolean,
  ): Promise<{ count: number; error: string | null }> {
    const keep = job.patterns.length > 0 ? globMatcher(job.patterns) : () => true;
    // PVC mode has no uploads: each pod wrote to its replica's folder of the job's directory.
    if (job.resultSlots && store.kind !== 'pvc')
      return this.collectReplicaResults(store, job, job.resultSlots, keep);
    const upload = resultsUploadKey(job.tenantId, job.id, job.attempt);
    // At most one request: the upload's body, or the sign there is none; none at all when every
    // pod of the attempt said it uploaded nothing.
    const body = noResults
      ? undefined
      : await store.get(upload).catch((error: unknown) => {
          if (error instanceof ObjectNotFound) return undefined;
          throw error;
        });
    if (body) return this.unpackUpload(store, job, upload, body, keep);
    // With object storage, results only ever arrive as an upload (docs/storage.md): none means
    // the pod left no results (its sidecar uploads nothing then), or an earlier pass indexed
    // every file before removing it. So there is nothing to list, and a listing costs a store
    // like s3rver a walk of the tenant's job directories, for every job that has no results.
    // Earlier attempts of a retried job may have left theirs: they go.
    if (store.kind !== 'pvc') {
      await this.removeUploads(store, job, job.attempt - 1);
      return { count: 0, error: null };
    }
    return { count: await this.indexStored(store, job, keep), error: null };
  }

  /** Removes the first `attempts` attempts' uploads by name (a missing one is no error). */
  private async removeUploads(store: ObjectStore, job: JobForStorage, attempts: number) {
    // Their keys are known, so they are removed by name: listing the prefix costs a store
    // like s3rver a walk of every job directory of the tenant, for each job.
    const uploads = Array.from({ length: attempts }, (_, i) =>
      resultsUploadKey(job.tenantId, job.id, i + 1),
    );
    await Promise.all(uploads.map((key) => store.remove(key)));
  }

  /**
   * The sidecar's archive of the last attempt, unpacked file by file into `results/`. Small
   * files are read whole and put up to PUTS_IN_FLIGHT at a time while the archive reads on;
   * large ones stream through a hash straight into the store. Rows go in batches. A file
   * already indexed with the same size (an unpack that was interrupted) is not put again.
   */
  private async unpackUpload(
    store: ObjectStore,
    job: JobForStorage,
    upload: string,
    body: Readable,
    keep: (path: string) => boolean,
    prefix = '',
    /** Sizes of the files already indexed (`resultSizes`), when the caller read them once. */
    indexedSizes?: Map<string, number>,
  ): Promise<{ count: number; error: string | null }> {
    const limits = {
      maxEntries: this.config.RESULTS_MAX_FILES,
      maxUncompressedBytes: this.config.RESULTS_MAX_UNCOMPRESSED_MB * 1024 * 1024,
    };
    const indexed = indexedSizes ?? (await this.repository.resultSizes(job.id));
    const rows = new ResultRows(this.repository);
    const puts = new Bounded(PUTS_IN_FLIGHT);
    let kept = 0;
    try {
      for await (const file of tarGzFiles(body, limits)) {
        if (!keep(file.path) || file.path.startsWith(RESULTS_UPLOAD_DIR)) {
          file.content.resume();
          continue;
        }
        kept += 1;
        const path = `${prefix}${file.path}`;
        if (indexed.get(path) === file.size) {
          file.content.resume();
          continue;
        }
        const key = resultKey(job.tenantId, job.id, path);
        const contentType = contentTypeOf(file.path);
        const row = { jobId: job.id, tenantId: job.tenantId, path, contentType };
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
      return {
        count: kept,
        error: `the results upload ${upload} could not be unpacked (${error.code}): ${error.message}`,
      };
    }
    if (prefix !== '') return { count: kept, error: null };
    // Every attempt's upload goes once the last one is unpacked (retries leave theirs too).
    await this.removeUploads(store, job, job.attempt);
    return { count: kept, error: null };
  }

  /**
   * A multi-pod job's results: each pod's upload of the last attempt, unpacked under its
   * replica's prefix (`0/…`, `worker-1/…`), so pods never overwrite each other. A pod that
   * uploaded nothing (it never ran: a JobSet that succeeded on its targets alone) adds no
   * files. Then every attempt's uploads and manifests go, by name.
   */
  private async collectReplicaResults(
    store: ObjectStore,
    job: JobForStorage,
    slots: readonly { prefix: string }[],
    keep: (path: string) => boolean,
  ): Promise<{ count: number; error: string | null }> {
    let count = 0;
    const errors: string[] = [];
    // Read once: every pod's files lie under its own prefix, so no unpack changes another's.
    const indexed = await this.repository.resultSizes(job.id);
    for (const { prefix } of slots) {
      const upload = replicaResultsUploadKey(job.tenantId, job.id, job.attempt, prefix);
      const body = await store.get(upload).catch((error: unknown) => {
        if (error instanceof ObjectNotFound) return undefined;
        throw error;
      });
      if (!body) continue;
      const unpacked = await this.unpackUpload(store, job, upload, body, keep, prefix, indexed);
      count += unpacked.count;
      if (unpacked.error) errors.push(unpacked.error);
    }
    if (errors.length > 0) return { count, error: errors.join('; ') };
    const uploads = Array.from({ length: job.attempt }, (_, i) => [
      resultsUploadManifestKey(job.tenantId, job.id, i + 1),
      ...slots.map(({ prefix }) => replicaResultsUploadKey(job.tenantId, job.id, i + 1, prefix)),
    ]).flat();
    const removals = new Bounded(PUTS_IN_FLIGHT);
    for (const key of uploads) await removals.run(() => store.remove(key));
    await removals.drain();
    return { count, error: null };
  }

  /** Files already under `results/` (PVC mode: the job wrote to its tenant volume). */
  private async indexStored(
    store: ObjectStore,
    job: JobForStorage,
    keep: (path: string) => boolean,
  ): Promise<number> {
    const rows = new ResultRows(this.repository);
    const prefix = resultsPrefix(job.tenantId, job.id);
    // A multi-pod job's pods each wrote under their replica's folder (`0/`, `worker-1/`): the
    // patterns match the path a pod wrote, as they do on an upload (collectReplicaResults).
    const inPod = (path: string) =>
      path.slice(job.resultSlots?.find((slot) => path.startsWith(slot.prefix))?.prefix.length ?? 0);
    for await (const object of listAll(store, prefix)) {
      const path = object.key.slice(prefix.length);
      if (path.startsWith(RESULTS_UPLOAD_DIR) || !keep(inPod(path))) continue;
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
