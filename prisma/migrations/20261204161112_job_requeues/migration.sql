-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "requeues" INTEGER NOT NULL DEFAULT 0;

-- The job states capacity loss adds (libs/domain/src/scheduling/job-state-table.ts): a job
-- requeued because its node went away (CapacityLost), and one waiting because every node that
-- could take it is cordoned or NotReady (CapacityUnavailable) (docs/scheduling.md#capacity-loss).
CREATE OR REPLACE FUNCTION job_state_is_legal(status text, phase text, reason text) RETURNS boolean
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
      ('pending', 'Queued', 'WaitingForDependency'),
      ('pending', 'Queued', 'DependencyNeverSatisfied'),
      ('pending', 'Queued', 'CapacityLost'),
      ('pending', 'Queued', 'CapacityUnavailable'),
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
      ('cancelled', 'Cancelled', 'CancelledByUser'),
      ('cancelled', 'Cancelled', 'DependencyFailed')
    ) AS legal (status, phase, reason)
    WHERE legal.status = $1 AND legal.phase = $2 AND legal.reason IS NOT DISTINCT FROM $3
  )
$$;
