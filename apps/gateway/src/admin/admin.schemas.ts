import { z } from 'zod';

import { compatStatus } from '../compat/compat.schemas.js';

const resources = z.record(z.string(), z.string());

export const clusterSchema = z
  .object({
    nodes: z.array(
      z.object({
        name: z.string(),
        status: z
          .array(z.string())
          .describe('Types of the node conditions that are True, e.g. ["Ready"].'),
        conditions: z.array(
          z.object({ type: z.string(), status: z.string(), reason: z.string().nullable() }),
        ),
        unschedulable: z.boolean(),
        capacity: resources,
        allocatable: resources,
        pods_running: z.number().int(),
        created: z.string().nullable(),
      }),
    ),
    total_nodes: z.number().int(),
  })
  .meta({ id: 'AdminCluster' });
export type ClusterView = z.infer<typeof clusterSchema>;

/** `?status=` in SUMO-K8's capitals; lower case is accepted too. */
export const adminJobsQuery = z
  .object({
    status: z
      .string()
      .transform((value) => value.toUpperCase())
      .pipe(compatStatus)
      .optional(),
    tenant_id: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type AdminJobsQuery = z.output<typeof adminJobsQuery>;

const k8sStatus = z.object({
  active: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
});

export const adminJobsSchema = z
  .object({
    jobs: z.array(
      z.object({
        job_id: z.uuid(),
        tenant_id: z.string(),
        namespace: z.string(),
        name: z.string(),
        status: compatStatus,
        phase: z.string(),
        attempt: z.number().int(),
        submitted_at: z.string(),
        started_at: z.string().nullable(),
        finished_at: z.string().nullable(),
        k8s_job_name: z.string().nullable(),
        k8s_status: k8sStatus
          .nullable()
          .describe("The Kubernetes Job of the job's current attempt; null when there is none."),
      }),
    ),
    total: z.number().int().describe('Jobs matching the filter (the list holds at most `limit`).'),
  })
  .meta({ id: 'AdminJobs' });
export type AdminJobsView = z.infer<typeof adminJobsSchema>;

export const activitySchema = z
  .object({
    timestamp: z.string(),
    nodes: z.number().int(),
    pods: z.record(z.string(), z.number().int()).describe('Pods in every namespace by phase.'),
    k8s_jobs: z.object({
      total: z.number().int(),
      active: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
    db_jobs: z.record(compatStatus, z.number().int()),
  })
  .meta({ id: 'AdminActivity' });
export type ActivityView = z.infer<typeof activitySchema>;
