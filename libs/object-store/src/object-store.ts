import type { Readable } from 'node:stream';

/** What a store knows about one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
  contentType?: string;
}

/** One page of a listing, in key order; `next` is the cursor (the last key) when more follow. */
export interface ObjectPage {
  items: ObjectInfo[];
  next?: string;
}

/** Bytes `start..end` inclusive, as HTTP ranges count them; `end` omitted = to the end. */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * Where roam keeps inputs, results and log archives. Keys are
 * `tenants/<tenant>/jobs/<job>/{inputs,results,logs}/…` (see `keys.ts`). Two adapters: S3
 * through the `minio` client, and a directory (a mounted PVC) for clusters without object
 * storage. The fake for tests is the directory adapter over a temp dir.
 */
export interface ObjectStore {
  /** `s3` can hand out presigned URLs; `pvc` cannot (the gateway streams instead). */
  readonly kind: 's3' | 'pvc';
  /** Writes an object of exactly `size` bytes; a stream that ends short or long is an error. */
  put(key: string, body: Readable | Buffer, size: number, contentType: string): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** `undefined` when there is no such object. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Objects under `prefix` after the cursor `after`, at most `limit` (default 1000). */
  list(prefix: string, options?: { after?: string; limit?: number }): Promise<ObjectPage>;
  /** No error when the object is missing. */
  remove(key: string): Promise<void>;
  /** Removes every object under `prefix`; returns how many. */
  removePrefix(prefix: string): Promise<number>;
  /** A URL anyone holding it may GET for `ttlSeconds`; `undefined` where the store has none. */
  presignGet(
    key: string,
    ttlSeconds: number,
    options?: { filename?: string },
  ): Promise<string | undefined>;
  /** A URL anyone holding it may PUT the object to for `ttlSeconds`. */
  presignPut(key: string, ttlSeconds: number): Promise<string | undefined>;
}

/** Every object under `prefix`, page by page. */
export async function* listAll(
  store: ObjectStore,
  prefix: string,
  pageSize = 1000,
): AsyncGenerator<ObjectInfo> {
  let after: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { ...(after ? { after } : {}), limit: pageSize });
    yield* page.items;
    if (!page.next) return;
    after = page.next;
  }
}
