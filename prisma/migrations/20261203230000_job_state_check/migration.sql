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

-- Enforced by triggers rather than CHECK constraints: Prisma's schema engine cannot describe a
-- database holding a CHECK constraint through the driver adapter (its catalog query reads
-- `pg_constraint.contype` as a "char" the adapter does not map), which would break
-- `pnpm db:migration`. The trigger raises the same SQLSTATE (23514) a CHECK would, naming the rule.
CREATE FUNCTION job_state_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT job_state_is_legal(NEW.status::text, NEW.phase, NEW.reason) THEN
    RAISE EXCEPTION '%: (%, %, %) is not a legal job state', TG_ARGV[0], NEW.status, NEW.phase,
      coalesce(NEW.reason, 'no reason')
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER jobs_state_check BEFORE INSERT OR UPDATE OF status, phase, reason ON "jobs"
  FOR EACH ROW EXECUTE FUNCTION job_state_guard('jobs_state_check');

CREATE TRIGGER job_history_state_check BEFORE INSERT OR UPDATE OF status, phase, reason
  ON "job_history"
  FOR EACH ROW EXECUTE FUNCTION job_state_guard('job_history_state_check');
