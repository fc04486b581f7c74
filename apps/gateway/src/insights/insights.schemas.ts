import { z } from 'zod';

const isoTime = z.iso.datetime();

/** At most 30 days back, in at most 200 buckets: every series costs a bounded query. */
export const MAX_HOURS = 720;
export const MAX_BUCKETS = 200;

export const seriesQuery = z
  .object({
    hours: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_HOURS)
      .default(24)
      .describe(`How far back, in hours (1 to ${MAX_HOURS}).`),
    buckets: z.coerce
      .number()
      .int()
      .min(2)
      .max(MAX_BUCKETS)
      .default(48)
      .describe(`Points in the series (2 to ${MAX_BUCKETS}), evenly spaced.`),
  })
  .strict();
export type SeriesQuery = z.output<typeof seriesQuery>;

/** `GET /api/v1/usage/series`: the calling tenant's quota use over time and fair-share standing. */
export const usageSeriesSchema = z
  .object({
    from: isoTime,
    until: isoTime,
    bucket_seconds: z.number().int(),
    limits: z.object({
      cpu_millis: z.number().int(),
      memory_bytes: z.number().int(),
      gpu: z.number().int(),
      concurrent_jobs: z.number().int(),
      offload_budget_micros: z
        .number()
        .int()
        .nullable()
        .describe('RunPod offload budget in micro-dollars (1,000,000 = $1); null: none.'),
    }),
    points: z.array(
      z.object({
        at: isoTime.describe('The end of the bucket: in-use figures are as of this instant.'),
        submitted: z.number().int().describe('Jobs submitted during the bucket.'),
        finished: z.number().int().describe('Jobs that finished during the bucket.'),
        pending: z.number().int().describe('Jobs waiting (not yet admitted) at `at`.'),
        running: z.number().int().describe('Jobs admitted and not finished at `at`.'),
        cpu_millis: z.number().int().describe('CPU of those jobs, against `limits.cpu_millis`.'),
        memory_bytes: z.number().int(),
        gpu: z.number().int(),
        offload_spend_micros: z
          .number()
          .int()
          .describe(
            'Offload spend so far at `at` (a pod is charged when it ends), against `limits.offload_budget_micros`.',
          ),
      }),
    ),
    fair_share: z
      .object({
        share: z
          .number()
          .describe('Weighted dominant share of the cluster the tenant holds now (0 to 1).'),
        position: z
          .number()
          .int()
          .nullable()
          .describe(
            'Place among tenants with jobs waiting, lowest share first (the next free slot goes to 1); null with nothing waiting.',
          ),
        competing: z.number().int().describe('Tenants with jobs waiting now.'),
      })
      .describe('Now, not over time. Other tenants are counted, never named.'),
  })
  .meta({ id: 'UsageSeries' });
export type UsageSeriesView = z.output<typeof usageSeriesSchema>;

/** `GET /api/v1/admin/queue`: the admission queue over time, for operators. */
export const queueSeriesSchema = z
  .object({
    from: isoTime,
    until: isoTime,
    bucket_seconds: z.number().int(),
    times: z.array(isoTime).describe('Bucket ends; every series below has one value per time.'),
    pending: z
      .array(z.object({ tenant: z.string(), values: z.array(z.number().int()) }))
      .describe(
        'Jobs waiting at each time, per tenant: the 10 with the most at their peak, then `(others)`.',
      ),
    admitted: z
      .array(z.number().int())
      .describe('Jobs admitted during each bucket (÷ bucket_seconds = admission rate).'),
    oldest_waiting: z
      .array(
        z.object({
          tenant: z.string(),
          waiting: z.number().int(),
          oldest_created_at: isoTime,
          oldest_wait_seconds: z.number().int(),
        }),
      )
      .describe('Now: tenants with jobs waiting, longest wait first (at most 20).'),
  })
  .meta({ id: 'QueueSeries' });
export type QueueSeriesView = z.output<typeof queueSeriesSchema>;

const micros = z.number().int().describe('Micro-dollars (1,000,000 = $1).');

/** `GET /api/v1/admin/offload`: RunPod pods, the prices they ran at, spend per tenant. */
export const offloadOverviewSchema = z
  .object({
    pods: z
      .array(
        z.object({
          id: z.uuid(),
          tenant: z.string().nullable(),
          job_id: z.uuid().nullable(),
          runpod_pod_id: z.string().nullable(),
          gpu_type: z.string(),
          data_center: z.string().nullable(),
          state: z.enum(['creating', 'running', 'succeeded', 'failed', 'terminated']),
          price_per_hour_micros: micros,
          cost_micros: micros,
          created_at: isoTime,
          ended_at: isoTime.nullable(),
        }),
      )
      .describe('The 100 most recent offloads, newest first; live ones (creating, running) first.'),
    prices: z
      .array(
        z.object({
          gpu_type: z.string(),
          pods: z.number().int(),
          last_price_per_hour_micros: micros,
          min_price_per_hour_micros: micros,
          max_price_per_hour_micros: micros,
        }),
      )
      .describe('Per GPU type, the hourly prices pods were created at (the last 30 days).'),
    spend: z
      .array(
        z.object({
          tenant: z.string(),
          spend_micros: micros,
          budget_micros: micros.nullable().describe('Null: no budget set.'),
          running_pods: z.number().int(),
        }),
      )
      .describe(
        'Per tenant with spend, a budget above zero or a pod: most spend first (at most 100).',
      ),
  })
  .meta({ id: 'OffloadOverview' });
export type OffloadOverviewView = z.output<typeof offloadOverviewSchema>;
