import { workerEnv } from '@roam/config';
import { z } from 'zod';

export const reconcilerEnv = workerEnv('reconciler').extend({
  LOST_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe('A created Kubernetes Job missing this long while roam thinks it runs is Lost.'),
  MAX_REQUEUES: z.coerce
    .number()
    .int()
    .min(0)
    .max(100)
    .default(3)
    .describe(
      'Times a job may be requeued without using a retry when its node goes away (deleted, spot reclaimed, drained); past it, a lost node is a failure for the retry policy.',
    ),
  RECONCILE_BATCH: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(500)
    .describe('Jobs reconciled per transaction.'),
  WAIT_FOR_PODS_READY_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(300)
    .describe(
      'A multi-pod job whose pods are not all running this long after admission is requeued (its wait_for_pods_ready_seconds overrides).',
    ),
});

export type ReconcilerConfig = z.infer<typeof reconcilerEnv>;
