import { z } from 'zod';

/** The SUMO-K8 seed spells statuses in capitals. */
export const seedStatus = z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
export type SeedStatus = z.infer<typeof seedStatus>;
export const toSeedStatus = (status: string): SeedStatus => status.toUpperCase() as SeedStatus;

export const seedJobIdParam = z.uuid('must be a job id (UUID)');

const isoTime = z.iso.datetime();

/** `GET /jobs/{job_id}`: the seed's `job_id, status, submitted_at` plus roam's detail. */
export const seedJobSchema = z
  .object({
    job_id: z.uuid(),
    status: seedStatus,
    submitted_at: isoTime,
    started_at: isoTime.nullable(),
    finished_at: isoTime.nullable(),
    name: z.string(),
    phase: z.string(),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    attempt: z.number().int(),
    exit_code: z.number().int().nullable(),
    k8s_namespace: z.string(),
    k8s_job_name: z.string().nullable(),
    pod_name: z.string().nullable(),
  })
  .meta({ id: 'SeedJob' });
export type SeedJob = z.infer<typeof seedJobSchema>;

/** `GET /jobs/{job_id}/logs`: the last 500 lines of the current pod. */
export const seedLogsSchema = z
  .object({
    job_id: z.uuid(),
    pod_name: z.string().nullable(),
    logs: z.string(),
    attempt: z.number().int(),
    source: z.enum(['kubernetes', 'archive', 'none']),
    reason: z
      .enum(['not-started', 'container-waiting', 'pod-gone', 'pod-not-found'])
      .nullable()
      .describe('Why `logs` is empty, when it is for lack of a log.'),
  })
  .meta({ id: 'SeedLogs' });

const stats = z.object({
  pending: z.number().int(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
});

/** `GET /tenants/me/dashboard`. */
export const dashboardSchema = z
  .object({
    tenant_id: z.string(),
    namespace: z.string(),
    plan_limits: z.object({
      max_cpu: z.number(),
      max_memory_gi: z.number(),
      max_gpu: z.number().int(),
      max_concurrent_jobs: z.number().int(),
    }),
    current_usage: z
      .record(z.string(), z.string())
      .describe('`status.used` of the namespace ResourceQuota `roam-quota` ({} until it exists).'),
    quota_hard: z.record(z.string(), z.string()),
    running_pods: z.number().int(),
    recent_jobs: z.array(seedJobSchema).describe('The 10 most recent jobs, newest first.'),
    stats,
  })
  .meta({ id: 'TenantDashboard' });
export type Dashboard = z.infer<typeof dashboardSchema>;
