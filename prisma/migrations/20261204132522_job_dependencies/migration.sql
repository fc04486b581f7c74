-- AlterTable
ALTER TABLE "job_arrays" ADD COLUMN     "deps_unmet" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "deps_unmet" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "job_dependencies" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "job_id" UUID,
    "array_id" UUID,
    "on_job_id" UUID,
    "on_array_id" UUID,
    "condition" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'waiting',
    "handled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "job_dependencies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipelines" (
    "id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "steps" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cancelled" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipelines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipeline_steps" (
    "pipeline_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "job_id" UUID,
    "array_id" UUID,
    "depends_on" JSONB NOT NULL DEFAULT '[]',
    "outcome" TEXT,

    CONSTRAINT "pipeline_steps_pkey" PRIMARY KEY ("pipeline_id","position")
);

-- CreateIndex
CREATE INDEX "job_dependencies_job_id_idx" ON "job_dependencies"("job_id");

-- CreateIndex
CREATE INDEX "job_dependencies_array_id_idx" ON "job_dependencies"("array_id");

-- CreateIndex
CREATE INDEX "job_dependencies_on_job_id_state_idx" ON "job_dependencies"("on_job_id", "state");

-- CreateIndex
CREATE INDEX "job_dependencies_on_array_id_state_idx" ON "job_dependencies"("on_array_id", "state");

-- CreateIndex
CREATE INDEX "job_dependencies_state_handled_idx" ON "job_dependencies"("state", "handled");

-- CreateIndex
CREATE INDEX "pipelines_tenant_id_id_idx" ON "pipelines"("tenant_id", "id");

-- CreateIndex
CREATE INDEX "pipeline_steps_job_id_idx" ON "pipeline_steps"("job_id");

-- CreateIndex
CREATE INDEX "pipeline_steps_array_id_idx" ON "pipeline_steps"("array_id");

-- CreateIndex
CREATE UNIQUE INDEX "pipeline_steps_pipeline_id_name_key" ON "pipeline_steps"("pipeline_id", "name");

-- CreateIndex
CREATE INDEX "jobs_admission_ready_idx" ON "jobs"("tenant_id", "status", "deps_unmet", "priority" DESC, "id");

-- AddForeignKey
ALTER TABLE "job_dependencies" ADD CONSTRAINT "job_dependencies_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipelines" ADD CONSTRAINT "pipelines_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipeline_steps" ADD CONSTRAINT "pipeline_steps_pipeline_id_fkey" FOREIGN KEY ("pipeline_id") REFERENCES "pipelines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The job states dependencies add (libs/domain/src/scheduling/job-state-table.ts): a job queued
-- for its dependencies, one kept although a dependency failed, one cancelled because of it.
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

-- When a dependency on a job is met (docs/pipelines.md): `succeeded` by Succeeded, `failed` by
-- Failed, `finished` by any end; any other end can no longer meet it. NULL while the job runs.
CREATE FUNCTION job_dependency_outcome(condition text, phase text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN phase NOT IN ('Succeeded', 'Failed', 'Cancelled') THEN NULL
    WHEN condition = 'finished' THEN 'met'
    WHEN condition = 'succeeded' AND phase = 'Succeeded' THEN 'met'
    WHEN condition = 'failed' AND phase = 'Failed' THEN 'met'
    ELSE 'failed'
  END
$$;

-- The same on a whole array, from its counters: `all_succeeded` is met when every element
-- succeeded and fails with the first element that did not; `any_failed` is met with the first
-- failed element and fails when all ended without one; `finished` is met when all ended.
CREATE FUNCTION array_dependency_outcome(condition text, a job_arrays) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN condition = 'all_succeeded' AND a.succeeded = a.size THEN 'met'
    WHEN condition = 'all_succeeded' AND a.failed + a.cancelled > 0 THEN 'failed'
    WHEN condition = 'any_failed' AND a.failed > 0 THEN 'met'
    WHEN condition = 'any_failed' AND a.succeeded + a.cancelled = a.size THEN 'failed'
    WHEN condition = 'finished' AND a.succeeded + a.failed + a.cancelled = a.size THEN 'met'
    ELSE NULL
  END
$$;

-- Lowers the dependents' `deps_unmet` for dependencies just met; rows locked in key order
-- (docs/architecture.md#rule-10), jobs before arrays.
CREATE FUNCTION job_dependencies_release(met_jobs uuid[], met_arrays uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(met_jobs) > 0 THEN
    PERFORM 1 FROM jobs WHERE id = ANY(met_jobs) ORDER BY id FOR UPDATE;
    UPDATE jobs j SET deps_unmet = j.deps_unmet - m.n
    FROM (SELECT id, count(*)::int AS n FROM unnest(met_jobs) AS id GROUP BY id) m
    WHERE j.id = m.id;
  END IF;
  IF cardinality(met_arrays) > 0 THEN
    PERFORM 1 FROM job_arrays WHERE id = ANY(met_arrays) ORDER BY id FOR UPDATE;
    UPDATE job_arrays a SET deps_unmet = a.deps_unmet - m.n
    FROM (SELECT id, count(*)::int AS n FROM unnest(met_arrays) AS id GROUP BY id) m
    WHERE a.id = m.id;
  END IF;
END
$$;

-- A pipeline whose steps all finished: its `pipeline.finished` event, in the outbox and the
-- event log, in the transaction of the change (docs/architecture.md#rule-1).
CREATE FUNCTION pipelines_announce(finished_ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  WITH stamped AS (
    SELECT gen_random_uuid() AS event_id, p.* FROM pipelines p WHERE p.id = ANY(finished_ids)
  ), counted AS (
    SELECT s.event_id, s.id, s.tenant_id, jsonb_build_object(
      'id', s.event_id,
      'type', 'roam.evt.v1.pipeline.finished',
      'source', 'roam/db',
      'time', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'subject', 'pipelines/' || s.id::text,
      'tenantId', s.tenant_id,
      'data', jsonb_build_object(
        'pipelineId', s.id, 'name', s.name, 'steps', s.steps,
        'outcome', jsonb_build_object(
          'succeeded', s.succeeded, 'failed', s.failed, 'cancelled', s.cancelled),
        'counts', (
          SELECT jsonb_build_object(
            'submitted', coalesce(sum(c.submitted), 0), 'queued', coalesce(sum(c.queued), 0),
            'admitted', coalesce(sum(c.admitted), 0), 'running', coalesce(sum(c.running), 0),
            'succeeded', coalesce(sum(c.succeeded), 0), 'failed', coalesce(sum(c.failed), 0),
            'cancelled', coalesce(sum(c.cancelled), 0))
          FROM pipeline_steps ps
          CROSS JOIN LATERAL (
            SELECT a.submitted, a.queued, a.admitted, a.running, a.succeeded, a.failed,
                   a.cancelled
            FROM job_arrays a WHERE a.id = ps.array_id
            UNION ALL
            SELECT (j.phase = 'Submitted')::int, (j.phase = 'Queued')::int,
                   (j.phase = 'Admitted')::int, (j.phase = 'Running')::int,
                   (j.phase = 'Succeeded')::int, (j.phase = 'Failed')::int,
                   (j.phase = 'Cancelled')::int
            FROM jobs j WHERE j.id = ps.job_id
          ) c
          WHERE ps.pipeline_id = s.id))) AS envelope
    FROM stamped s
  ), outbox AS (
    INSERT INTO outbox_messages (id, subject, envelope)
    SELECT event_id, 'roam.evt.v1.pipeline.finished', envelope FROM counted
  )
  INSERT INTO events (id, tenant_id, type, subject, time, envelope)
  SELECT event_id, tenant_id, 'roam.evt.v1.pipeline.finished', 'pipelines/' || id::text, now(),
         envelope
  FROM counted;
END
$$;

-- Records step outcomes and counts them into their pipelines; announces the pipelines whose
-- last step this was.
CREATE FUNCTION pipeline_steps_finish(step_outcomes jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  finished_ids uuid[];
BEGIN
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(step_outcomes) AS r(job_id uuid, array_id uuid, outcome text)
  ), stepped_jobs AS (
    UPDATE pipeline_steps ps SET outcome = i.outcome
    FROM input i WHERE ps.outcome IS NULL AND ps.job_id = i.job_id
    RETURNING ps.pipeline_id, ps.outcome
  ), stepped_arrays AS (
    UPDATE pipeline_steps ps SET outcome = i.outcome
    FROM input i WHERE ps.outcome IS NULL AND ps.array_id = i.array_id
    RETURNING ps.pipeline_id, ps.outcome
  ), delta AS (
    SELECT pipeline_id,
           count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE outcome = 'failed') AS failed,
           count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled
    FROM (SELECT * FROM stepped_jobs UNION ALL SELECT * FROM stepped_arrays) s
    GROUP BY pipeline_id
  ), updated AS (
    UPDATE pipelines p SET
      succeeded = p.succeeded + d.succeeded, failed = p.failed + d.failed,
      cancelled = p.cancelled + d.cancelled, updated_at = now(),
      finished_at = CASE
        WHEN p.succeeded + d.succeeded + p.failed + d.failed + p.cancelled + d.cancelled = p.steps
        THEN now() ELSE p.finished_at END
    FROM delta d WHERE p.id = d.pipeline_id
    RETURNING p.id, p.succeeded + p.failed + p.cancelled = p.steps AS done
  )
  SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO finished_ids FROM updated WHERE done;
  IF cardinality(finished_ids) > 0 THEN
    PERFORM pipelines_announce(finished_ids);
  END IF;
END
$$;

-- Jobs that just ended: resolve the dependencies on them, release dependents whose
-- dependency is met, and finish the pipeline steps they are.
CREATE FUNCTION jobs_follow_finished() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  met_jobs uuid[];
  met_arrays uuid[];
  steps jsonb;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.phase IN ('Succeeded', 'Failed', 'Cancelled') AND n.phase IS DISTINCT FROM o.phase
  ) THEN
    RETURN NULL;
  END IF;
  WITH done AS (
    SELECT n.id, n.phase FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.phase IN ('Succeeded', 'Failed', 'Cancelled') AND n.phase IS DISTINCT FROM o.phase
  ), resolved AS (
    UPDATE job_dependencies d SET state = job_dependency_outcome(d.condition, done.phase),
           resolved_at = now()
    FROM done WHERE d.on_job_id = done.id AND d.state = 'waiting'
    RETURNING d.job_id, d.array_id, d.state
  )
  SELECT coalesce(array_agg(job_id) FILTER (WHERE state = 'met' AND job_id IS NOT NULL), '{}'),
         coalesce(array_agg(array_id) FILTER (WHERE state = 'met' AND array_id IS NOT NULL), '{}')
  INTO met_jobs, met_arrays FROM resolved;
  PERFORM job_dependencies_release(met_jobs, met_arrays);

  SELECT jsonb_agg(jsonb_build_object('job_id', n.id, 'outcome', lower(n.phase)))
  INTO steps
  FROM new_rows n JOIN old_rows o ON o.id = n.id
  WHERE n.array_id IS NULL AND n.phase IN ('Succeeded', 'Failed', 'Cancelled')
    AND n.phase IS DISTINCT FROM o.phase
    AND EXISTS (SELECT 1 FROM pipeline_steps ps WHERE ps.job_id = n.id);
  IF steps IS NOT NULL THEN
    PERFORM pipeline_steps_finish(steps);
  END IF;
  RETURN NULL;
END
$$;

-- Arrays whose counters moved: resolve the dependencies on them; an array that just finished
-- finishes its pipeline step (succeeded when every element did).
CREATE FUNCTION job_arrays_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  met_jobs uuid[];
  met_arrays uuid[];
  steps jsonb;
BEGIN
  WITH resolved AS (
    UPDATE job_dependencies d SET state = array_dependency_outcome(d.condition, n),
           resolved_at = now()
    FROM new_rows n
    WHERE d.on_array_id = n.id AND d.state = 'waiting'
      AND array_dependency_outcome(d.condition, n) IS NOT NULL
    RETURNING d.job_id, d.array_id, d.state
  )
  SELECT coalesce(array_agg(job_id) FILTER (WHERE state = 'met' AND job_id IS NOT NULL), '{}'),
         coalesce(array_agg(array_id) FILTER (WHERE state = 'met' AND array_id IS NOT NULL), '{}')
  INTO met_jobs, met_arrays FROM resolved;
  PERFORM job_dependencies_release(met_jobs, met_arrays);

  SELECT jsonb_agg(jsonb_build_object('array_id', n.id, 'outcome', CASE
           WHEN n.succeeded = n.size THEN 'succeeded'
           WHEN n.failed > 0 THEN 'failed'
           ELSE 'cancelled' END))
  INTO steps
  FROM new_rows n JOIN old_rows o ON o.id = n.id
  WHERE n.finished_at IS NOT NULL AND o.finished_at IS NULL
    AND EXISTS (SELECT 1 FROM pipeline_steps ps WHERE ps.array_id = n.id);
  IF steps IS NOT NULL THEN
    PERFORM pipeline_steps_finish(steps);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_follow_finished AFTER UPDATE ON "jobs"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION jobs_follow_finished();

CREATE TRIGGER job_arrays_follow AFTER UPDATE ON "job_arrays"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_arrays_follow();
