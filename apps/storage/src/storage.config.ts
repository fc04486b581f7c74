import { workerEnv } from '@roam/config';
import { z } from 'zod';

export const storageEnv = workerEnv('storage').extend({
  RESULTS_MAX_FILES: z.coerce
    .number()
    .int()
    .min(1)
    .default(100_000)
    .describe('Most files one results upload may unpack to.'),
  RESULTS_MAX_UNCOMPRESSED_MB: z.coerce
    .number()
    .positive()
    .default(100 * 1024)
    .describe('Largest total size one results upload may unpack to.'),
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(3_600_000)
    .describe('How often results older than their tenant results_retention_days are deleted.'),
});

export type StorageConfig = z.infer<typeof storageEnv>;
