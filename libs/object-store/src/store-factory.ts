import type { ObjectStoreConfig } from './config.js';
import { MinioObjectStore } from './minio-store.js';
import type { ObjectStore } from './object-store.js';

/** The S3 store when `S3_ENDPOINT` is set (bucket created if missing), else `undefined`. */
export async function objectStoreFromConfig(
  config: ObjectStoreConfig,
): Promise<ObjectStore | undefined> {
  if (!config.S3_ENDPOINT) return undefined;
  const store = new MinioObjectStore({ ...config, S3_ENDPOINT: config.S3_ENDPOINT });
  await store.ensureBucket();
  return store;
}
