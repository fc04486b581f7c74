import { type JobSpec, jobStatus } from '@roam/contracts';
import { z } from 'zod';

import { namedJobSpec } from './job.schemas.js';
import type { JobHistoryRow, JobRow } from './jobs.repository.js';

/*
 * Each view has its schema beside it: the schema is what the OpenAPI document shows, and the
 * view's type is inferred from it, so a view that drifts from its schema does not compile.
 */

const isoTime = z.iso.datetime();

const placement = z
  .record(z.string(), z.unknown())
  .nullable()
  .describe('Where it runs: `{ namespace, job, pod, node }`, or the offload target.');

/** SUMO-K8's JobResponse (id, status, spec, created_at, started_at, completed_at) plus roam's detail. */
export const jobViewSchema = z
  .object({
    id: z.uuid(),
    tenant_id: z.string(),
    name: z.string(),
    status: jobStatus,
    phase: z.string(),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    queue: z.string(),
    group: z.string().nullable().describe('The job group (`spec.group`), or null.'),
    array: z
      .object({ id: z.uuid(), index: z.number().int() })
      .nullable()
      .describe('For an element of a job array: the array and its index (`ROAM_ARRAY_INDEX`).'),
    priority: z.number().int(),
    attempt: z.number().int(),
    restarts: z
      .number()
      .int()
      .describe(
        "Times a JobSet's own failure policy (`failure_policy.max_restarts`) restarted the job, over all its attempts; each is a `job.restarted` event. Not roam's retries (`attempt`). 0 for other jobs.",
      ),
    spec: namedJobSpec,
    placement,
    exit_code: z.number().int().nullable(),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    completed_at: isoTime.nullable(),
  })
  .meta({ id: 'Job' });
export type JobView = z.output<typeof jobViewSchema>;

const placementOf = (job: Pick<JobRow, 'placement'>) =>
  (job.placement ?? null) as Record<string, unknown> | null;

export function jobView(job: JobRow): JobView {
  return {
    id: job.id,
    tenant_id: job.tenantId,
    name: job.name,
    status: job.status,
    phase: job.phase,
    reason: job.reason,
    message: job.message,
    queue: job.queue,
    group: job.groupName,
    array:
      job.arrayId !== null && job.arrayIndex !== null
        ? { id: job.arrayId, index: job.arrayIndex }
        : null,
    priority: job.priority,
    attempt: job.attempt,
    restarts: job.restarts,
    spec: job.spec as JobSpec,
    placement: placementOf(job),
    exit_code: job.exitCode,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    completed_at: job.finishedAt?.toISOString() ?? null,
  };
}

/** `GET /api/v1/jobs`. */
export const jobPageSchema = z
  .object({
    items: z.array(jobViewSchema),
    next_cursor: z
      .uuid()
      .nullable()
      .describe('Pass as `cursor` for the next page; null at the end.'),
  })
  .meta({ id: 'JobPage' });

/** `GET /api/v1/jobs/{id}/status`: the state without the spec. */
export const jobStatusViewSchema = z
  .object({
    id: z.uuid(),
    status: jobStatus,
    phase: z.string(),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    attempt: z.number().int(),
    exit_code: z.number().int().nullable(),
    placement,
    created_at: isoTime,
    started_at: isoTime.nullable(),
    completed_at: isoTime.nullable(),
  })
  .meta({ id: 'JobStatus' });
export type JobStatusView = z.output<typeof jobStatusViewSchema>;

export function jobStatusView(job: JobRow): JobStatusView {
  return {
    id: job.id,
    status: job.status,
    phase: job.phase,
    reason: job.reason,
    message: job.message,
    attempt: job.attempt,
    exit_code: job.exitCode,
    placement: placementOf(job),
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    completed_at: job.finishedAt?.toISOString() ?? null,
  };
}

/** One row of a job's history: a status or phase change, oldest first. */
export const jobEventViewSchema = z
  .object({
    seq: z.number().int().describe('Per-job sequence number, from 1.'),
    status: jobStatus,
    phase: z.string(),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    data: z.unknown().describe('Detail of the change (exit code, placement…), or null.'),
    at: isoTime,
  })
  .meta({ id: 'JobEvent' });
export type JobEventView = z.output<typeof jobEventViewSchema>;

export function jobEventView(row: JobHistoryRow): JobEventView {
  return {
    seq: row.seq,
    status: row.status,
    phase: row.phase,
    reason: row.reason,
    message: row.message,
    data: row.data ?? null,
    at: row.at.toISOString(),
  };
}

/** `GET /api/v1/jobs/{id}/events`. */
export const jobEventsSchema = z.object({
  job_id: z.uuid(),
  items: z.array(jobEventViewSchema),
});
