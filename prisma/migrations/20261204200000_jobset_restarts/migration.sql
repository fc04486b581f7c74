-- JobSet restarts (a JobSet's own failure policy recreating its pods, not one of roam's
-- retries): the count over all attempts, and the JobSet's `status.restarts` last recorded for
-- attempt `restarts_attempt` (docs/scheduling.md#multi-pod).
ALTER TABLE "jobs" ADD COLUMN     "restarts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "attempt_restarts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "restarts_attempt" INTEGER;
