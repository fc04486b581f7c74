import { Inject, Injectable } from '@nestjs/common';
import type { ObjectStore } from '@roam/object-store';

import { OBJECT_STORE } from '@roam/runtime';
import type { LogArchiveReader } from './log-source.js';

/**
 * Reads the log archives the storage worker writes (`tenants/<t>/jobs/<j>/logs/attempt-<n>.log`,
 * Kubernetes log text with `timestamps=true`) from object storage or the PVC.
 */
@Injectable()
export class ObjectStoreLogArchive implements LogArchiveReader {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore | null) {}

  async open(storageKey: string, signal: AbortSignal): Promise<AsyncIterable<Buffer | string>> {
    if (!this.store)
      throw new Error(`log archive ${storageKey} exists but no object store is configured`);
    const body = await this.store.get(storageKey);
    signal.addEventListener('abort', () => body.destroy(), { once: true });
    return body;
  }

  async has(storageKey: string): Promise<boolean> {
    return (await this.store?.stat(storageKey)) !== undefined;
  }
}
