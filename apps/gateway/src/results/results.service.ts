import type { Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { type JobSpec, replicaOf, resultSlotsOf } from '@roam/contracts';
import { type ObjectStore, resultsPrefix } from '@roam/object-store';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';
import yazl from 'yazl';

import { OBJECT_STORE } from '@roam/runtime';
import { noSuchReplica } from '../logs/logs.service.js';
import { type ResultRow, ResultsRepository } from './results.repository.js';
import { encodeResultCursor, type ResultList, type ResultListQuery } from './results.schemas.js';

const notFound = (detail: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', detail);

/** One result file, opened for streaming. */
export interface OpenedResult {
  row: ResultRow;
  body: Readable;
}

/**
 * Results of a job as recorded by the storage worker (`result_files`), read from object storage
 * (or the tenant PVC): listing with short-lived URLs, one file, all as a streamed zip, delete.
 */
@Injectable()
export class ResultsService {
  constructor(
    private readonly repository: ResultsRepository,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private async assertJob(tenantId: string, jobId: string): Promise<void> {
    if (!(await this.repository.jobExists(tenantId, jobId)))
      throw notFound(`job ${jobId} not found`);
  }

  /**
   * The prefix of one replica's results (`3/`, `worker-1/`), checked against the job's spec;
   * undefined for no replica (then only the job's existence is checked, not its spec read).
   * 404 for a job without that replica, as for its logs; a job whose pods share one upload
   * (a single pod, a multi-host TPU slice) keeps no replica folders.
   */
  private async replicaPrefix(
    tenantId: string,
    jobId: string,
    replica: string | undefined,
  ): Promise<string | undefined> {
    if (replica === undefined) {
      await this.assertJob(tenantId, jobId);
      return undefined;
    }
    const spec = (await this.repository.specOf(tenantId, jobId)) as JobSpec | null;
    if (spec === null) throw notFound(`job ${jobId} not found`);
    if (!resultSlotsOf(spec) || !replicaOf(spec, replica)) noSuchReplica(jobId, replica);
    return `${replica}/`;
  }

  private storeOrFail(): ObjectStore {
    if (this.store) return this.store;
    throw new ProblemError(
      503,
      problemTypes.unavailable,
      'Results storage unavailable',
      'no object storage (S3_ENDPOINT) or results volume (RESULTS_PVC_ROOT) is configured',
    );
  }

  /**
   * One page of the listing. `routeBase` is the gateway path of this listing, for PVC-mode
   * download links. Only the page's files are presigned, so a job with many files costs a
   * caller one page of work per request.
   */
  async list(
    tenantId: string,
    jobId: string,
    routeBase: string,
    query: ResultListQuery = {},
  ): Promise<ResultList> {
    const limit = query.limit ?? this.config.RESULTS_PAGE_SIZE;
    const max = this.config.RESULTS_PAGE_MAX;
    if (limit > max) {
      throw new ProblemError(
        400,
        problemTypes.validation,
        'Request validation failed',
        `query: limit: must be at most ${max} (RESULTS_PAGE_MAX)`,
        { errors: [{ path: 'limit', message: `must be at most ${max}` }] },
      );
    }
    const prefix = await this.replicaPrefix(tenantId, jobId, query.replica);
    const fetched = await this.repository.page(tenantId, jobId, query.cursor, limit + 1, prefix);
    const rows = fetched.slice(0, limit);
    const hasMore = fetched.length > limit;
    const ttl = this.config.RESULTS_URL_TTL_SECONDS;
    const expires = new Date(Date.now() + ttl * 1000).toISOString();
    const files = await Promise.all(
      rows.map(async (row) => {
        const presigned = await this.store?.presignGet(row.storageKey, ttl, {
          filename: row.path.split('/').pop() ?? row.path,
        });
        return {
          name: row.path,
          size: Number(row.size),
          checksum: row.checksum,
          checksum_algorithm: 'sha256' as const,
          content_type: row.contentType,
          url: presigned ?? `${routeBase}/${row.path.split('/').map(encodeURIComponent).join('/')}`,
          expires_at: presigned ? expires : null,
        };
      }),
    );
    const hasAny = rows.length > 0 || query.cursor !== undefined;
    return {
      job_id: jobId,
      storage_type: this.store?.kind ?? 'pvc',
      result_location: !hasAny
        ? null
        : this.store?.kind === 's3'
          ? `s3://${this.config.S3_BUCKET}/${resultsPrefix(tenantId, jobId)}`
          : `pvc:/results/${jobId}/`,
      files,
      has_more: hasMore,
      next_cursor: hasMore ? encodeResultCursor(rows.at(-1)!.path) : null,
    };
  }

  async open(tenantId: string, jobId: string, path: string): Promise<OpenedResult> {
    await this.assertJob(tenantId, jobId);
    const row = await this.repository.find(tenantId, jobId, path);
    if (!row) throw notFound(`job ${jobId} has no result file ${path}`);
    return { row, body: await this.storeOrFail().get(row.storageKey) };
  }

  /** A presigned URL for one file, or `undefined` where the store has none (PVC). */
  async urlOf(tenantId: string, jobId: string, path: string): Promise<string | undefined> {
    await this.assertJob(tenantId, jobId);
    const row = await this.repository.find(tenantId, jobId, path);
    if (!row) throw notFound(`job ${jobId} has no result file ${path}`);
    return this.storeOrFail().presignGet(row.storageKey, this.config.RESULTS_URL_TTL_SECONDS, {
      filename: row.path.split('/').pop() ?? row.path,
    });
  }

  /**
   * Every result as one zip, streamed: entries are opened one at a time as the archive is
   * written, so neither the files nor the archive are held in memory.
   */
  async zip(tenantId: string, jobId: string, replica?: string): Promise<NodeJS.ReadableStream> {
    const prefix = await this.replicaPrefix(tenantId, jobId, replica);
    const rows = await this.repository.list(tenantId, jobId, prefix);
    const store = this.storeOrFail();
    const zip = new yazl.ZipFile();
    for (const row of rows) {
      zip.addReadStreamLazy(row.path, { size: Number(row.size), mtime: row.createdAt }, (done) => {
        store.get(row.storageKey).then(
          (stream) => done(null, stream),
          (error: unknown) => done(error, undefined as unknown as NodeJS.ReadableStream),
        );
      });
    }
    zip.end();
    return zip.outputStream;
  }

  /** Removes the files and their rows; idempotent. */
  async remove(tenantId: string, jobId: string): Promise<number> {
    await this.assertJob(tenantId, jobId);
    const rows = await this.repository.list(tenantId, jobId);
    const store = this.storeOrFail();
    await store.removePrefix(resultsPrefix(tenantId, jobId));
    for (const row of rows)
      if (!row.storageKey.startsWith(resultsPrefix(tenantId, jobId)))
        await store.remove(row.storageKey);
    return this.repository.deleteAll(tenantId, jobId);
  }
}
