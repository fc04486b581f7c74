-- The closed set of job states (status, phase, reason), the same as `JOB_PHASES` in
-- libs/domain/src/scheduling/job-state-table.ts; a test compares the two (docs/ledger.md).
-- Adding a state: CREATE OR REPLACE this function in a new migration.
CREATE FUNCTION job_state_is_legal(status text, phase text, reason text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT EXISTS (
    SELECT 1 FROM (VALUES
      ('pending', 'Submitted', NULL::text),
      ('pending', 'Queued', 'ConcurrencyLimit'),
      ('pending', 'Queued', 'WaitingForQuota'),
      ('pending', 'Queued', 'InsufficientCapacity'),
      ('pending', 'Queued', 'Unschedulable'),
      ('pending', 'Queued', 'WaitingForOlderJob'),
      ('pending', 'Queued', 'Offload'),
      ('pending', 'Queued', 'UnknownTenant'),
      ('pending', 'Queued', 'RetryBackoff'),
      ('pending', 'Admitted', 'ContainerCreating'),
      ('running', 'Running', NULL),
      ('running', 'Running', 'Offloaded'),
      ('succeeded', 'Succeeded', NULL),
      ('failed', 'Failed', 'Error'),
      ('failed', 'Failed', 'OOMKilled'),
      ('failed', 'Failed', 'DeadlineExceeded'),
      ('failed', 'Failed', 'BackoffLimitExceeded'),
      ('failed', 'Failed', 'ImagePullBackOff'),
      ('failed', 'Failed', 'Evicted'),
      ('failed', 'Failed', 'Lost'),
      ('cancelled', 'Cancelled', NULL),
      ('cancelled', 'Cancelled', 'CancelledByUser')
    ) AS legal (status, phase, reason)
    WHERE legal.status = $1 AND legal.phase = $2 AND legal.reason IS NOT DISTINCT FROM $3
  )
$$;

ALTER TABLE "jobs" ADD CONSTRAINT "jobs_state_check"
  CHECK (job_state_is_legal(status::text, phase, reason));

ALTER TABLE "job_history" ADD CONSTRAINT "job_history_state_check"
  CHECK (job_state_is_legal(status::text, phase, reason));
