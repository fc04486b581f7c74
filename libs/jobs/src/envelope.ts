import {
  createEnvelope,
  type Envelope,
  type JobEvent as JobEventData,
  subjects,
} from '@roam/contracts';
import type { JobEvent, JobState } from '@roam/domain';

/** What caused a step: a domain event, or the submit that created the job. */
export type JobCause = JobEvent['type'] | 'submit';

/** The event each cause announces. Total: a new cause fails compilation until it has one. */
export const JOB_EVENT_SUBJECTS = {
  submit: subjects.job.submitted,
  queue: subjects.job.queued,
  admit: subjects.job.admitted,
  start: subjects.job.started,
  offload: subjects.job.offloaded,
  succeed: subjects.job.succeeded,
  fail: subjects.job.failed,
  retry: subjects.job.retried,
  // Back to the queue through no fault of the job (capacity lost): a `queued` event with the reason.
  requeue: subjects.job.queued,
  cancel: subjects.job.cancelled,
  // A failed job run again (an array's failed elements): announced as a retry.
  rerun: subjects.job.retried,
  preempt: subjects.job.preempted,
  restart: subjects.job.restarted,
} as const satisfies Record<JobCause, string>;

/** The subject of a job event, `jobs/<id>`: the envelope's `subject` and the outbox key. */
export const jobSubject = (jobId: string): string => `jobs/${jobId}`;

export interface JobEventInput {
  source: string;
  cause: JobCause;
  /** The state before the step; undefined for a submit. */
  from: JobState | undefined;
  to: JobState;
  seq: number;
  job: { id: string; tenantId: string; name: string; attempt: number };
  exitCode?: number | null;
  placement?: Record<string, unknown> | null;
  /** A `restart`: the JobSet's restart count in the attempt. */
  restarts?: number;
}

/**
 * THE builder of `roam.evt.v1.job.*` envelopes. Every step that takes a `seq` announces itself,
 * a change of wait reason within the queue included (a `queued` event with the new reason): a
 * subscriber that sees `seq` jump knows an event is missing, never a silent step.
 */
export function jobEventEnvelope(input: JobEventInput): Envelope<JobEventData> {
  const { to, job } = input;
  return createEnvelope<JobEventData>(
    JOB_EVENT_SUBJECTS[input.cause],
    {
      jobId: job.id,
      name: job.name,
      status: to.status,
      phase: to.phase,
      reason: to.reason ?? null,
      message: to.message ?? null,
      attempt: job.attempt,
      exitCode: input.exitCode ?? null,
      placement: input.placement ?? null,
      ...(input.restarts !== undefined ? { restarts: input.restarts } : {}),
    },
    { source: input.source, tenantId: job.tenantId, subject: jobSubject(job.id), seq: input.seq },
  );
}
