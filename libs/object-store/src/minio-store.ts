import http from 'node:http';
import https from 'node:https';
import { type Readable, Transform } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

import { type BucketItem, Client, S3Error } from 'minio';

import type { ObjectStoreConfig } from './config.js';
import { attachmentDisposition } from './content-disposition.js';
import { ObjectNotFound, ObjectStoreTimeout } from './errors.js';
import type { ByteRange, ObjectInfo, ObjectPage, ObjectStore } from './object-store.js';

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);

function notFound(error: unknown): boolean {
  return error instanceof S3Error && NOT_FOUND_CODES.has(String(error.code));
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ATTEMPTS = 3;

/**
 * `http(s).request` whose socket may stay silent at most `timeoutMs`: a store that accepts the
 * connection and never answers (or stops mid-transfer) fails the call instead of hanging it.
 * An idle limit, not a total one, so a large object that keeps flowing is never cut.
 */
function timedTransport(useSSL: boolean, timeoutMs: number): Pick<typeof http, 'request'> {
  const base = useSSL ? https : http;
  return {
    request: ((options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
      const request = base.request(options, callback);
      request.setTimeout(timeoutMs, () => {
        request.destroy(
          new ObjectStoreTimeout(`${options.method ?? 'GET'} ${options.path ?? '/'}`, timeoutMs),
        );
      });
      return request;
    }) as typeof http.request,
  };
}

/** Timeouts and connection failures are worth another try; S3's own answers are not. */
function transient(error: unknown): boolean {
  if (error instanceof ObjectStoreTimeout) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code)
  );
}

function clientFor(endpoint: string, config: ObjectStoreConfig): Client {
  const url = new URL(endpoint);
  const useSSL = url.protocol === 'https:';
  return new Client({
    transport: timedTransport(useSSL, config.S3_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS),
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.S3_ACCESS_KEY,
    secretKey: config.S3_SECRET_KEY,
    // A fixed region keeps presigning local (no GetBucketLocation round trip).
    region: config.S3_REGION,
    pathStyle: config.S3_PATH_STYLE,
  });
}

/** Counts what flows through and fails once more than `size` bytes arrive. */
function sizeGuard(size: number): Transform & { seen(): number } {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > size) done(new Error(`object is longer than the ${size} bytes announced`));
      else done(null, chunk);
    },
  });
  return Object.assign(guard, { seen: () => seen });
}

/** The S3 adapter over the `minio` client (MinIO, AWS S3, s3rver). */
export class MinioObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly presigner: Client;
  private readonly bucket: string;
  private readonly attempts: number;

  constructor(config: ObjectStoreConfig & { S3_ENDPOINT: string }) {
    this.attempts = Math.max(1, config.S3_ATTEMPTS ?? DEFAULT_ATTEMPTS);
    this.client = clientFor(config.S3_ENDPOINT, config);
    this.presigner = config.S3_PUBLIC_ENDPOINT
      ? clientFor(config.S3_PUBLIC_ENDPOINT, config)
      : this.client;
    this.bucket = config.S3_BUCKET;
  }

  /** Creates the bucket when it is missing (a second caller racing to create it is fine). */
  async ensureBucket(): Promise<void> {
    if (await this.retrying(() => this.client.bucketExists(this.bucket))) return;
    try {
      await this.client.makeBucket(this.bucket);
    } catch (error) {
      const code = error instanceof S3Error ? String(error.code) : '';
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
    }
  }

  async put(key: string, body: Readable | Buffer, size: number, contentType: string) {
    const meta = { 'Content-Type': contentType };
    if (Buffer.isBuffer(body)) {
      if (body.length !== size)
        throw new Error(`object ${key}: ${body.length} bytes given, ${size} announced`);
      await this.retrying(() => this.client.putObject(this.bucket, key, body, size, meta));
      return;
    }
    const guard = sizeGuard(size);
    body.once('error', (error) => guard.destroy(error));
    body.pipe(guard);
    try {
      await this.client.putObject(this.bucket, key, guard, size, meta);
    } catch (error) {
      await this.remove(key).catch(() => undefined);
      throw error;
    }
    if (guard.seen() !== size) {
      await this.remove(key).catch(() => undefined);
      throw new Error(`object ${key}: stream ended after ${guard.seen()} of ${size} bytes`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      if (!range) return await this.retrying(() => this.client.getObject(this.bucket, key));
      const length = range.end === undefined ? 0 : range.end - range.start + 1;
      return await this.retrying(() =>
        this.client.getPartialObject(this.bucket, key, range.start, length),
      );
    } catch (error) {
      if (notFound(error)) throw new ObjectNotFound(key);
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stat = await this.retrying(() => this.client.statObject(this.bucket, key));
      const contentType = (stat.metaData as Record<string, string | undefined>)['content-type'];
      return {
        key,
        size: stat.size,
        lastModified: stat.lastModified,
        ...(contentType ? { contentType } : {}),
      };
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  list(prefix: string, options: { after?: string; limit?: number } = {}): Promise<ObjectPage> {
    return this.retrying(() => this.listOnce(prefix, options));
  }

  private async listOnce(
    prefix: string,
    options: { after?: string; limit?: number },
  ): Promise<ObjectPage> {
    const limit = options.limit ?? 1000;
    const stream = this.client.listObjectsV2(this.bucket, prefix, true, options.after ?? '');
    const items: ObjectInfo[] = [];
    let more = false;
    try {
      for await (const entry of stream) {
        const item = entry as BucketItem;
        if (!item.name) continue;
        if (items.length === limit) {
          more = true;
          break;
        }
        items.push({ key: item.name, size: item.size, lastModified: item.lastModified });
      }
    } finally {
      stream.destroy();
    }
    return more ? { items, next: items.at(-1)!.key } : { items };
  }

  async remove(key: string): Promise<void> {
    try {
      await this.retrying(() => this.client.removeObject(this.bucket, key));
    } catch (error) {
      if (!notFound(error)) throw error;
    }
  }

  async removePrefix(prefix: string): Promise<number> {
    let removed = 0;
    for (;;) {
      // Always the first page: what was removed no longer lists.
      const page = await this.list(prefix, { limit: 1000 });
      if (page.items.length === 0) return removed;
      // One DELETE per object, 16 at a time: s3rver's multi-object delete is unreliable, and
      // results are tens to thousands of objects, not millions.
      for (let i = 0; i < page.items.length; i += 16)
        await Promise.all(page.items.slice(i, i + 16).map((item) => this.remove(item.key)));
      removed += page.items.length;
    }
  }

  /**
   * Runs a call that is safe to repeat, again on a timeout or a connection failure, up to
   * `S3_ATTEMPTS` times with a short doubling pause; any other error surfaces at once.
   */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.attempts || !transient(error)) throw error;
        await delay(Math.min(100 * 2 ** (attempt - 1), 2000));
      }
    }
  }

  presignGet(key: string, ttlSeconds: number, options: { filename?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.filename)
      headers['response-content-disposition'] = attachmentDisposition(options.filename);
    return this.presigner.presignedGetObject(this.bucket, key, ttlSeconds, headers);
  }

  presignPut(key: string, ttlSeconds: number) {
    return this.presigner.presignedPutObject(this.bucket, key, ttlSeconds);
  }
}
