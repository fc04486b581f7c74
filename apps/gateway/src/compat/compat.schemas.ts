import { z } from 'zod';

/** The SUMO-K8 spells statuses in capitals. */
export const compatStatus = z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
export type CompatStatus = z.infer<typeof compatStatus>;
export const toCompatStatus = (status: string): CompatStatus =>
  status.toUpperCase() as CompatStatus;

export const compatJobIdParam = z.uuid('must be a job id (UUID)');

const isoTime = z.iso.datetime();

/** `GET /jobs/{job_id}`: SUMO-K8's `job_id, status, submitted_at` plus roam's detail. */
export const compatJobSchema = z
  .object({
    job_id: z.uuid(),
    status: compatStatus,
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
export type CompatJob = z.infer<typeof compatJobSchema>;

/** `GET /jobs/{job_id}/logs`: the last 500 lines of the current pod. */
export const compatLogsSchema = z
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
    recent_jobs: z.array(compatJobSchema).describe('The 10 most recent jobs, newest first.'),
    stats,
  })
  .meta({ id: 'TenantDashboard' });
export type Dashboard = z.infer<typeof dashboardSchema>;
