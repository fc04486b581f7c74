import { z } from 'zod';

/** Command: the scheduler should look at a newly submitted job. */
export const jobSubmitCommand = z.object({
  jobId: z.uuid(),
});
export type JobSubmitCommand = z.infer<typeof jobSubmitCommand>;

/** Command: the scheduler should look at a batch of newly submitted jobs. */
export const jobSubmitBatchCommand = z.object({
  jobIds: z.array(z.uuid()).min(1).max(1000),
});
export type JobSubmitBatchCommand = z.infer<typeof jobSubmitBatchCommand>;

/** Command: stop whatever runs for this (already cancelled) job and clean up its objects. */
export const jobCancelCommand = z.object({
  jobId: z.uuid(),
});
export type JobCancelCommand = z.infer<typeof jobCancelCommand>;

export const jobStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof jobStatus>;

/** Event payload shared by every `roam.evt.v1.job.*` event. */
export const jobEvent = z.object({
  jobId: z.uuid(),
  name: z.string(),
  status: jobStatus,
  phase: z.string(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  attempt: z.number().int().min(1).optional(),
  exitCode: z.number().int().nullish(),
  /** Where it ran: namespace/job/pod/node, or RunPod pod id, GPU type and price. */
  placement: z.record(z.string(), z.unknown()).nullish(),
  /** `job.restarted`: how many times the attempt's JobSet has been restarted by its failure policy. */
  restarts: z.number().int().min(1).optional(),
});
export type JobEvent = z.infer<typeof jobEvent>;
