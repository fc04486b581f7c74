-- CreateTable: finished jobs the storage worker has not stored yet (see below).
CREATE TABLE "storage_backlog" (
    "job_id" UUID NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "storage_backlog_pkey" PRIMARY KEY ("job_id")
);

-- CreateIndex
CREATE INDEX "storage_backlog_finished_at_idx" ON "storage_backlog"("finished_at");

-- AddForeignKey
ALTER TABLE "storage_backlog" ADD CONSTRAINT "storage_backlog_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The storage backlog, kept by the database. The storage worker's sweep and its backlog gauge
-- read every finished job there ever was, twice every STORAGE_SWEEP_INTERVAL_MS, to find the
-- few not stored yet (an anti-join with stored_jobs): their cost grew with the history. Now a job
-- enters storage_backlog in the statement that finishes it (unless it was stored before: an
-- array element rerun since), and leaves it in the statement that marks it stored.
-- jobs_follow_finished (job_dependencies) already looks for jobs that just ended: it adds them
-- too, so a statement that finishes no job pays nothing more.
CREATE OR REPLACE FUNCTION jobs_follow_finished() RETURNS trigger
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
  -- A job rerun while it waited (an array's failed element) counts from its latest finish.
  INSERT INTO storage_backlog (job_id, finished_at)
  SELECT n.id, n.finished_at FROM new_rows n JOIN old_rows o ON o.id = n.id
  WHERE n.phase IN ('Succeeded', 'Failed', 'Cancelled') AND n.phase IS DISTINCT FROM o.phase
    AND NOT EXISTS (SELECT 1 FROM stored_jobs s WHERE s.job_id = n.id)
  ON CONFLICT (job_id) DO UPDATE SET finished_at = excluded.finished_at;

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

-- A row inserted already finished (roam inserts jobs as Submitted; a restore or a hand-written
-- row might not) enters the backlog too.
CREATE FUNCTION jobs_storage_backlog_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO storage_backlog (job_id, finished_at)
  SELECT n.id, n.finished_at FROM new_rows n
  WHERE n.phase IN ('Succeeded', 'Failed', 'Cancelled')
  ON CONFLICT (job_id) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_storage_backlog_insert AFTER INSERT ON "jobs"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION jobs_storage_backlog_insert();

-- Whatever writes a stored_jobs row takes the job out of the backlog: the storage worker does
-- it in the same statement, and this covers a worker of the previous release during an upgrade.
-- (A job that finishes again after it was stored, racing that write, may still leave a row: the
-- readers skip stored jobs, and each sweep deletes such rows.)
CREATE FUNCTION stored_jobs_leave_backlog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM storage_backlog b USING new_rows n WHERE b.job_id = n.job_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER stored_jobs_leave_backlog AFTER INSERT ON "stored_jobs"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stored_jobs_leave_backlog();

-- The jobs finished and not stored when this migration runs.
INSERT INTO storage_backlog (job_id, finished_at)
SELECT j.id, j.finished_at FROM jobs j
WHERE j.status IN ('succeeded', 'failed', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM stored_jobs s WHERE s.job_id = j.id);
