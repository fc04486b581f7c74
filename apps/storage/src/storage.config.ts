import { workerEnv } from '@roam/config';
import { z } from 'zod';

export const storageEnv = workerEnv('storage').extend({
  RESULTS_COLLECTOR: z
    .enum(['simulator', 'objects'])
    .default('objects')
    .describe(
      'How results reach storage: objects = the pod (uploader sidecar) or the PVC already holds them and the worker indexes them; simulator = copied from the Kubernetes simulator pod file store.',
    ),
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(3_600_000)
    .describe('How often results older than their tenant results_retention_days are deleted.'),
});

export type StorageConfig = z.infer<typeof storageEnv>;
