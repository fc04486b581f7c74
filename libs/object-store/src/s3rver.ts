import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';

import S3rver from 's3rver';

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * s3rver (an S3-speaking server on the local disk) for development and tests. It never checks
 * signatures; any access key works. Objects live under `directory`.
 */
export async function startS3rver(options: {
  directory: string;
  port?: number;
  host?: string;
}): Promise<RunningS3rver> {
  await mkdir(options.directory, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
  });
  // `silent` only mutes the output: s3rver's koa-logger still formats two coloured lines per
  // request and hands them to a muted logger. Nothing reads them, so the middleware goes.
  const logger = server.middleware.findIndex((middleware) => middleware.name === 'logger');
  if (logger >= 0) server.middleware.splice(logger, 1);
  rememberBuckets((server as unknown as { store: BucketStore }).store);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    close: () => server.close(),
  };
}

/** Bucket settings kept at most (each a small object). */
const MAX_REMEMBERED_SETTINGS = 1000;

/** The part of s3rver's filesystem store that reads and writes buckets and their settings. */
interface BucketStore {
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(
    bucket: string,
    key: string | undefined,
    resource: { type: string },
  ): Promise<void>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void>;
  reset(): void;
}

/**
 * s3rver looks a request's bucket up on disk on every request, and its CORS and website
 * settings too (a `stat` and two failed `open`s before any object is touched): most of its CPU
 * for a small PUT. Only s3rver itself changes them, through the store, so the answers are kept
 * here and dropped when it writes: a bucket's existence while it exists, its settings until
 * they change.
 */
function rememberBuckets(store: BucketStore): void {
  const disk = {
    getBucket: store.getBucket.bind(store),
    putBucket: store.putBucket.bind(store),
    deleteBucket: store.deleteBucket.bind(store),
    getSubresource: store.getSubresource.bind(store),
    putSubresource: store.putSubresource.bind(store),
    deleteSubresource: store.deleteSubresource.bind(store),
    reset: store.reset.bind(store),
  };
  const buckets = new Map<string, Promise<unknown>>();
  const settings = new Map<string, Promise<unknown>>();
  const settingKey = (bucket: string, type: string) => `${bucket}\0${type}`;
  const forgetBucket = (bucket: string) => {
    buckets.delete(bucket);
    for (const key of [...settings.keys()]) if (key.startsWith(`${bucket}\0`)) settings.delete(key);
  };
  /** The answer kept under `key`, or `read()`'s, kept unless it fails or `keep` refuses it. */
  const remembered = (
    cache: Map<string, Promise<unknown>>,
    key: string,
    read: () => Promise<unknown>,
    keep: (value: unknown) => boolean,
  ): Promise<unknown> => {
    const known = cache.get(key);
    if (known) return known;
    const answer = read();
    cache.set(key, answer);
    const drop = () => {
      if (cache.get(key) === answer) cache.delete(key);
    };
    answer.then((value) => (keep(value) ? undefined : drop()), drop);
    return answer;
  };
  /** Runs a write, then forgets what it may have changed (even when it failed halfway). */
  const thenForget = async <T>(write: Promise<T>, forget: () => void): Promise<T> => {
    try {
      return await write;
    } finally {
      forget();
    }
  };

  // A missing bucket is asked again each time: the next request may create it.
  store.getBucket = (bucket) =>
    remembered(
      buckets,
      bucket,
      () => disk.getBucket(bucket),
      (found) => Boolean(found),
    );
  store.putBucket = (bucket) => thenForget(disk.putBucket(bucket), () => forgetBucket(bucket));
  store.deleteBucket = (bucket) =>
    thenForget(disk.deleteBucket(bucket), () => forgetBucket(bucket));
  // A bucket's own settings (no key); an object's are read from disk as before. A request may
  // name any bucket (its settings are read before the bucket's existence is checked), so the
  // answers kept are bounded: past the bound they start over.
  store.getSubresource = (bucket, key, type) => {
    if (settings.size >= MAX_REMEMBERED_SETTINGS) settings.clear();
    return key === undefined
      ? remembered(
          settings,
          settingKey(bucket, type),
          () => disk.getSubresource(bucket, key, type),
          () => true,
        )
      : disk.getSubresource(bucket, key, type);
  };
  store.putSubresource = (bucket, key, resource) =>
    thenForget(disk.putSubresource(bucket, key, resource), () =>
      settings.delete(settingKey(bucket, resource.type)),
    );
  store.deleteSubresource = (bucket, key, type) =>
    thenForget(disk.deleteSubresource(bucket, key, type), () =>
      settings.delete(settingKey(bucket, type)),
    );
  store.reset = () => {
    buckets.clear();
    settings.clear();
    disk.reset();
  };
}
