-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "array_id" UUID,
ADD COLUMN     "array_index" INTEGER;

-- CreateTable
CREATE TABLE "job_arrays" (
    "id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "parallelism" INTEGER,
    "group_name" TEXT,
    "submitted" INTEGER NOT NULL DEFAULT 0,
    "queued" INTEGER NOT NULL DEFAULT 0,
    "admitted" INTEGER NOT NULL DEFAULT 0,
    "running" INTEGER NOT NULL DEFAULT 0,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cancelled" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_arrays_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "job_arrays_tenant_id_id_idx" ON "job_arrays"("tenant_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_array_id_array_index_key" ON "jobs"("array_id", "array_index");

-- AddForeignKey
ALTER TABLE "job_arrays" ADD CONSTRAINT "job_arrays_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Counters of job arrays, kept like those of groups (docs/architecture.md#rule-10): elements
-- are inserted in one statement, so the insert trigger adds nothing here (the submit writes
-- the array row with `submitted = size`); phase changes and deletes move the counters, and the
-- change that finishes the last unfinished element writes `array.finished`.
CREATE FUNCTION job_array_finished_envelope(a job_arrays, id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', id,
    'type', 'roam.evt.v1.array.finished',
    'source', 'roam/db',
    'time', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'subject', 'arrays/' || a.id::text,
    'tenantId', a.tenant_id,
    'data', jsonb_build_object(
      'arrayId', a.id,
      'name', a.name,
      'size', a.size,
      'counts', jsonb_build_object(
        'submitted', a.submitted, 'queued', a.queued, 'admitted', a.admitted,
        'running', a.running, 'succeeded', a.succeeded, 'failed', a.failed,
        'cancelled', a.cancelled)))
$$;

CREATE FUNCTION job_arrays_count_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.array_id IS NOT NULL AND n.phase IS DISTINCT FROM o.phase
  ) THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM job_arrays a
  WHERE a.id IN (
    SELECT n.array_id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.array_id IS NOT NULL AND n.phase IS DISTINCT FROM o.phase)
  ORDER BY a.id
  FOR UPDATE;
  WITH moved AS (
    SELECT n.array_id, o.phase AS old_phase, n.phase AS new_phase
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.array_id IS NOT NULL AND n.phase IS DISTINCT FROM o.phase
  ), delta AS (
    SELECT array_id,
      count(*) FILTER (WHERE new_phase = 'Submitted') - count(*) FILTER (WHERE old_phase = 'Submitted') AS submitted,
      count(*) FILTER (WHERE new_phase = 'Queued') - count(*) FILTER (WHERE old_phase = 'Queued') AS queued,
      count(*) FILTER (WHERE new_phase = 'Admitted') - count(*) FILTER (WHERE old_phase = 'Admitted') AS admitted,
      count(*) FILTER (WHERE new_phase = 'Running') - count(*) FILTER (WHERE old_phase = 'Running') AS running,
      count(*) FILTER (WHERE new_phase = 'Succeeded') - count(*) FILTER (WHERE old_phase = 'Succeeded') AS succeeded,
      count(*) FILTER (WHERE new_phase = 'Failed') - count(*) FILTER (WHERE old_phase = 'Failed') AS failed,
      count(*) FILTER (WHERE new_phase = 'Cancelled') - count(*) FILTER (WHERE old_phase = 'Cancelled') AS cancelled,
      count(*) FILTER (WHERE new_phase IN ('Succeeded', 'Failed', 'Cancelled')) AS finishing
    FROM moved GROUP BY array_id
  ), updated AS (
    UPDATE job_arrays a SET
      submitted = a.submitted + d.submitted, queued = a.queued + d.queued,
      admitted = a.admitted + d.admitted, running = a.running + d.running,
      succeeded = a.succeeded + d.succeeded, failed = a.failed + d.failed,
      cancelled = a.cancelled + d.cancelled, updated_at = now(),
      finished_at = CASE
        WHEN d.finishing > 0 AND a.submitted + d.submitted + a.queued + d.queued + a.admitted
             + d.admitted + a.running + d.running = 0 THEN now()
        ELSE a.finished_at END
    FROM delta d WHERE a.id = d.array_id
    RETURNING a AS arr, d.finishing
  ), finished AS (
    SELECT gen_random_uuid() AS event_id, u.arr FROM updated u
    WHERE u.finishing > 0
      AND (u.arr).submitted + (u.arr).queued + (u.arr).admitted + (u.arr).running = 0
  ), stamped AS (
    SELECT event_id, (arr).tenant_id, (arr).id AS array_id,
           job_array_finished_envelope(arr, event_id) AS envelope
    FROM finished
  ), outbox AS (
    INSERT INTO outbox_messages (id, subject, envelope)
    SELECT event_id, 'roam.evt.v1.array.finished', envelope FROM stamped
  )
  INSERT INTO events (id, tenant_id, type, subject, time, envelope)
  SELECT event_id, tenant_id, 'roam.evt.v1.array.finished', 'arrays/' || array_id::text, now(),
         envelope
  FROM stamped;
  RETURN NULL;
END
$$;

CREATE FUNCTION job_arrays_count_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE job_arrays a SET
    submitted = a.submitted - d.submitted, queued = a.queued - d.queued,
    admitted = a.admitted - d.admitted, running = a.running - d.running,
    succeeded = a.succeeded - d.succeeded, failed = a.failed - d.failed,
    cancelled = a.cancelled - d.cancelled, updated_at = now()
  FROM (
    SELECT array_id,
           count(*) FILTER (WHERE phase = 'Submitted') AS submitted,
           count(*) FILTER (WHERE phase = 'Queued') AS queued,
           count(*) FILTER (WHERE phase = 'Admitted') AS admitted,
           count(*) FILTER (WHERE phase = 'Running') AS running,
           count(*) FILTER (WHERE phase = 'Succeeded') AS succeeded,
           count(*) FILTER (WHERE phase = 'Failed') AS failed,
           count(*) FILTER (WHERE phase = 'Cancelled') AS cancelled
    FROM job_rows WHERE array_id IS NOT NULL GROUP BY array_id
  ) d
  WHERE a.id = d.array_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_array_count_update AFTER UPDATE ON "jobs"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_arrays_count_update();

CREATE TRIGGER jobs_array_count_delete AFTER DELETE ON "jobs"
  REFERENCING OLD TABLE AS job_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_arrays_count_delete();
