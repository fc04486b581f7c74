import type { Provider } from '@nestjs/common';
import { type ComputePort, GceCompute } from '@roam/cloud';
import { APP_CONFIG } from '@roam/runtime';

import type { FailoverConfig } from './failover.config.js';

/** Injection token of the `ComputePort` (an interface, so it needs one). */
export const COMPUTE = Symbol('COMPUTE');

export const computeProvider: Provider = {
  provide: COMPUTE,
  inject: [APP_CONFIG],
  useFactory: (config: FailoverConfig): ComputePort =>
    new GceCompute({
      baseUrl: config.COMPUTE_API_URL,
      project: config.GCE_PROJECT,
      cluster: config.GKE_CLUSTER,
      accessToken: config.GCE_ACCESS_TOKEN,
      timeoutMs: config.COMPUTE_TIMEOUT_MS,
      attempts: config.COMPUTE_ATTEMPTS,
    }),
};
