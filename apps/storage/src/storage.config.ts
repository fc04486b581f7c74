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
  STORAGE_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(32)
    .describe(
      'Jobs whose logs and results are stored at once (mostly waiting on Kubernetes and object storage round trips).',
    ),
  STORAGE_UNPACK_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(8)
    .describe(
      'Results uploads unpacked at once, of those jobs; each holds up to 16 MiB of small files in memory.',
    ),
  STORAGE_BATCH: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(200)
    .describe('Jobs loaded, and their rows written, per statement.'),
  STORAGE_SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe(
      'How often the backlog (finished jobs not stored yet) is measured and worked off, whether or not their events arrived.',
    ),
});

export type StorageConfig = z.infer<typeof storageEnv>;
