import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ObjectNotFound } from './errors.js';
import type { ByteRange, ObjectInfo, ObjectPage, ObjectStore } from './object-store.js';

/**
 * Maps an object key to a path under a root directory, or `undefined` for a key the store
 * does not hold. The identity layout keeps keys as paths; `pvcLayout` is SUMO-K8's.
 */
export type KeyLayout = (key: string) => string | undefined;

export const identityLayout: KeyLayout = (key) => key;

function safePath(root: string, rel: string): string {
  const path = join(root, rel);
  const back = relative(root, path);
  if (back === '' || back.startsWith('..') || back.split(sep).includes('..'))
    throw new Error(`key escapes the store: ${rel}`);
  return path;
}

/**
 * A directory as an object store: for PVC mode (the tenant volumes mounted into the process, in
 * a real cluster through an RWX volume or a reader pod's mount) and as the fake in unit tests.
 * Listing walks the directory; keys come back in the same (sorted) order as S3 lists them.
 */
export class FsObjectStore implements ObjectStore {
  readonly kind = 'pvc' as const;

  constructor(
    private readonly root: string,
    private readonly layout: KeyLayout = identityLayout,
    /** Inverse of `layout`, for listings. */
    private readonly keyOf: (path: string) => string | undefined = (path) => path,
  ) {}

  private pathOf(key: string): string {
    const rel = this.layout(key);
    if (rel === undefined) throw new ObjectNotFound(key);
    return safePath(this.root, rel);
  }

  async put(
    key: string,
    body: Readable | Buffer,
    size: number,
    _contentType?: string,
  ): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    let seen = 0;
    const count = new Transform({
      transform(chunk: Buffer, _e, done) {
        seen += chunk.length;
        done(seen > size ? new Error(`object ${key} is longer than ${size} bytes`) : null, chunk);
      },
    });
    try {
      await pipeline(
        Buffer.isBuffer(body) ? Readable.from([body]) : body,
        count,
        createWriteStream(path),
      );
      if (seen !== size) throw new Error(`object ${key}: ${seen} of ${size} bytes`);
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (!(await this.stat(key))) throw new ObjectNotFound(key);
    return createReadStream(
      path,
      range ? { start: range.start, ...(range.end !== undefined ? { end: range.end } : {}) } : {},
    );
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    let path: string;
    try {
      path = this.pathOf(key);
    } catch {
      return undefined;
    }
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? { key, size: info.size, lastModified: info.mtime } : undefined;
  }

  private async walk(dir: string, out: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(path, out);
      else if (entry.isFile()) out.push(path);
    }
  }

  async list(
    prefix: string,
    options: { after?: string; limit?: number } = {},
  ): Promise<ObjectPage> {
    const limit = options.limit ?? 1000;
    const paths: string[] = [];
    await this.walk(this.root, paths);
    const keys = paths
      .map((path) => this.keyOf(relative(this.root, path).split(sep).join('/')))
      .filter((key): key is string => key !== undefined && key.startsWith(prefix))
      .filter((key) => options.after === undefined || key > options.after)
      .sort();
    const page = keys.slice(0, limit);
    const items: ObjectInfo[] = [];
    for (const key of page) {
      const info = await this.stat(key);
      if (info) items.push(info);
    }
    return keys.length > limit ? { items, next: page.at(-1)! } : { items };
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async removePrefix(prefix: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const page = await this.list(prefix);
      for (const item of page.items) await this.remove(item.key);
      removed += page.items.length;
      if (!page.next) return removed;
    }
  }

  /** A directory has no URLs of its own: the gateway streams PVC files itself. */
  presignGet(
    _key: string,
    _ttlSeconds: number,
    _options?: { filename?: string },
  ): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  presignPut(_key: string, _ttlSeconds: number): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
}

/**
 * The PVC store with SUMO-K8's layout: each tenant's volume holds `results/<job>/…` (and
 * `inputs/`, `logs/`). `root` is where the volumes are mounted: `<root>/<tenant>/` by default,
 * or wherever a `{tenant}` segment puts them (`/volumes/roam-{tenant}/roam-results`, the way a
 * local-path provisioner lays claims out).
 */
export function pvcObjectStore(root: string): FsObjectStore {
  const template = (root.includes('{tenant}') ? root : `${root}/{tenant}`).replace(/\/+$/, '');
  const parts = template.split('/');
  const at = parts.findIndex((part) => part.includes('{tenant}'));
  const base = parts.slice(0, at).join('/') || '/';
  // A tenant's volume relative to `base`, e.g. `roam-{tenant}/roam-results` or `{tenant}`.
  const volume = parts.slice(at).join('/');
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const inVolume = new RegExp(
    `^${escape(volume).replace(escape('{tenant}'), '([^/]+)')}/(inputs|results|logs)/([^/]+)/(.+)$`,
  );
  return new FsObjectStore(
    base,
    (key) => {
      const m = /^tenants\/([^/]+)\/jobs\/([^/]+)\/(inputs|results|logs)\/(.+)$/.exec(key);
      return m ? `${volume.replace('{tenant}', m[1]!)}/${m[3]}/${m[2]}/${m[4]}` : undefined;
    },
    (path) => {
      const m = inVolume.exec(path);
      return m ? `tenants/${m[1]}/jobs/${m[3]}/${m[2]}/${m[4]}` : undefined;
    },
  );
}
