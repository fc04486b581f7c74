-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "preemptions" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "borrow_cpu_millis" INTEGER,
ADD COLUMN     "borrow_gpu" INTEGER,
ADD COLUMN     "borrow_memory_bytes" BIGINT,
ADD COLUMN     "cohort" TEXT;

-- CreateTable
CREATE TABLE "priority_classes" (
    "name" TEXT NOT NULL,
    "value" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "priority_classes_pkey" PRIMARY KEY ("name")
);

-- Bounds the API enforces, kept by the database too: by triggers, not CHECK constraints, which
-- the schema engine cannot describe (see 20261203230000_job_state_check). SQLSTATE 23514 as a
-- CHECK would raise.
CREATE FUNCTION tenants_borrowing_limit_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(NEW."borrow_cpu_millis", 0) < 0 OR coalesce(NEW."borrow_memory_bytes", 0) < 0
     OR coalesce(NEW."borrow_gpu", 0) < 0 THEN
    RAISE EXCEPTION 'tenants_borrowing_limit_check: a borrowing limit is negative'
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "tenants_borrowing_limit_check" BEFORE INSERT OR UPDATE ON "tenants"
  FOR EACH ROW EXECUTE FUNCTION tenants_borrowing_limit_check();

CREATE FUNCTION priority_classes_value_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."value" NOT BETWEEN -1000 AND 1000 THEN
    RAISE EXCEPTION 'priority_classes_value_check: value % is outside -1000..1000', NEW."value"
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "priority_classes_value_check" BEFORE INSERT OR UPDATE ON "priority_classes"
  FOR EACH ROW EXECUTE FUNCTION priority_classes_value_check();

-- A preempted job goes back to the queue as Queued/Preempted (libs/domain/src/scheduling/job-state-table.ts);
-- the capacity states of 20261204161112_job_requeues stay legal.
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
      ('pending', 'Queued', 'Preempted'),
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
