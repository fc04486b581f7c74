import type { Provider } from '@nestjs/common';
import { type ObjectStore, objectStoreFromConfig, pvcObjectStore } from '@roam/object-store';

import { APP_CONFIG } from './tokens.js';

/** The store for inputs, results and log archives; `null` when none is configured. */
export const OBJECT_STORE = Symbol('OBJECT_STORE');

/**
 * S3 when `S3_ENDPOINT` is set (the bucket is created if missing); otherwise PVC mode over
 * `RESULTS_PVC_ROOT` (the tenant volumes mounted into this process); otherwise none.
 */
export const objectStoreProvider: Provider = {
  provide: OBJECT_STORE,
  inject: [APP_CONFIG],
  useFactory: async (
    config: Parameters<typeof objectStoreFromConfig>[0] & { RESULTS_PVC_ROOT?: string },
  ): Promise<ObjectStore | null> =>
    (await objectStoreFromConfig(config)) ??
    (config.RESULTS_PVC_ROOT ? pvcObjectStore(config.RESULTS_PVC_ROOT) : null),
};
