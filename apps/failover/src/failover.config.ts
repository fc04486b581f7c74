import { workerEnv } from '@roam/config';
import { z } from 'zod';

export const failoverEnv = workerEnv('failover').extend({
  COMPUTE_API_URL: z
    .url()
    .default('https://compute.googleapis.com')
    .describe('Compute Engine API; the simulator prints its own (`computeUrl`) for local stacks.'),
  GCE_PROJECT: z
    .string()
    .min(1)
    .optional()
    .describe('GCP project of the node pools; unset = read from the metadata server.'),
  GKE_CLUSTER: z
    .string()
    .min(1)
    .optional()
    .describe('GKE cluster name, to pick its instance groups (`gke-<cluster>-<pool>-…`).'),
  GCE_ACCESS_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Bearer token for the compute API; unset = the metadata server (workload identity) for Google, none for the simulator.',
    ),
  COMPUTE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('Time one compute API request may take.'),
  COMPUTE_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe('Attempts of a compute API request on a timeout, 429 or 5xx.'),
  ACTION_LOCK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000)
    .describe('Longest one worker holds an action before giving it up to another.'),
});

export type FailoverConfig = z.infer<typeof failoverEnv>;
