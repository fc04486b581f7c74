-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "group_name" TEXT;

-- CreateTable
CREATE TABLE "job_groups" (
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
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

    CONSTRAINT "job_groups_pkey" PRIMARY KEY ("tenant_id","name")
);

-- CreateIndex
CREATE INDEX "jobs_tenant_id_group_name_id_idx" ON "jobs"("tenant_id", "group_name", "id");

-- AddForeignKey
ALTER TABLE "job_groups" ADD CONSTRAINT "job_groups_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Counters of job groups, kept by statement-level triggers on "jobs" (docs/architecture.md#rule-10):
-- a bulk insert or a batched ledger write updates each group's row once, whatever its number
-- of jobs. Groups are locked in (tenant_id, name) order so two writers never deadlock on them.
-- When a change leaves a group with no unfinished job, the same statement writes its
-- `group.finished` event to the outbox and the event log (rule 1); the relay publishes it.
CREATE FUNCTION job_group_finished_envelope(g job_groups, id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', id,
    'type', 'roam.evt.v1.group.finished',
    'source', 'roam/db',
    'time', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'subject', 'groups/' || g.name,
    'tenantId', g.tenant_id,
    'data', jsonb_build_object(
      'group', g.name,
      'total', g.submitted + g.queued + g.admitted + g.running + g.succeeded + g.failed
               + g.cancelled,
      'counts', jsonb_build_object(
        'submitted', g.submitted, 'queued', g.queued, 'admitted', g.admitted,
        'running', g.running, 'succeeded', g.succeeded, 'failed', g.failed,
        'cancelled', g.cancelled)))
$$;

CREATE FUNCTION job_groups_count_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_groups AS g (tenant_id, name, submitted, queued, admitted, running, succeeded,
                               failed, cancelled)
  SELECT tenant_id, group_name,
         count(*) FILTER (WHERE phase = 'Submitted'), count(*) FILTER (WHERE phase = 'Queued'),
         count(*) FILTER (WHERE phase = 'Admitted'), count(*) FILTER (WHERE phase = 'Running'),
         count(*) FILTER (WHERE phase = 'Succeeded'), count(*) FILTER (WHERE phase = 'Failed'),
         count(*) FILTER (WHERE phase = 'Cancelled')
  FROM job_rows WHERE group_name IS NOT NULL
  GROUP BY tenant_id, group_name ORDER BY tenant_id, group_name
  ON CONFLICT (tenant_id, name) DO UPDATE SET
    submitted = g.submitted + EXCLUDED.submitted, queued = g.queued + EXCLUDED.queued,
    admitted = g.admitted + EXCLUDED.admitted, running = g.running + EXCLUDED.running,
    succeeded = g.succeeded + EXCLUDED.succeeded, failed = g.failed + EXCLUDED.failed,
    cancelled = g.cancelled + EXCLUDED.cancelled, finished_at = NULL, updated_at = now();
  RETURN NULL;
END
$$;

CREATE FUNCTION job_groups_count_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.group_name IS NOT NULL AND n.phase IS DISTINCT FROM o.phase
  ) THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM job_groups g
  WHERE (g.tenant_id, g.name) IN (
    SELECT n.tenant_id, n.group_name FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.group_name IS NOT NULL AND n.phase IS DISTINCT FROM o.phase)
  ORDER BY g.tenant_id, g.name
  FOR UPDATE;
  WITH moved AS (
    SELECT n.tenant_id, n.group_name AS name, o.phase AS old_phase, n.phase AS new_phase
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.group_name IS NOT NULL AND n.phase IS DISTINCT FROM o.phase
  ), delta AS (
    SELECT tenant_id, name,
      count(*) FILTER (WHERE new_phase = 'Submitted') - count(*) FILTER (WHERE old_phase = 'Submitted') AS submitted,
      count(*) FILTER (WHERE new_phase = 'Queued') - count(*) FILTER (WHERE old_phase = 'Queued') AS queued,
      count(*) FILTER (WHERE new_phase = 'Admitted') - count(*) FILTER (WHERE old_phase = 'Admitted') AS admitted,
      count(*) FILTER (WHERE new_phase = 'Running') - count(*) FILTER (WHERE old_phase = 'Running') AS running,
      count(*) FILTER (WHERE new_phase = 'Succeeded') - count(*) FILTER (WHERE old_phase = 'Succeeded') AS succeeded,
      count(*) FILTER (WHERE new_phase = 'Failed') - count(*) FILTER (WHERE old_phase = 'Failed') AS failed,
      count(*) FILTER (WHERE new_phase = 'Cancelled') - count(*) FILTER (WHERE old_phase = 'Cancelled') AS cancelled,
      count(*) FILTER (WHERE new_phase IN ('Succeeded', 'Failed', 'Cancelled')) AS finishing
    FROM moved GROUP BY tenant_id, name
  ), updated AS (
    UPDATE job_groups g SET
      submitted = g.submitted + d.submitted, queued = g.queued + d.queued,
      admitted = g.admitted + d.admitted, running = g.running + d.running,
      succeeded = g.succeeded + d.succeeded, failed = g.failed + d.failed,
      cancelled = g.cancelled + d.cancelled, updated_at = now(),
      finished_at = CASE
        WHEN d.finishing > 0 AND g.submitted + d.submitted + g.queued + d.queued + g.admitted
             + d.admitted + g.running + d.running = 0 THEN now()
        ELSE g.finished_at END
    FROM delta d WHERE g.tenant_id = d.tenant_id AND g.name = d.name
    RETURNING g AS grp, d.finishing
  ), finished AS (
    SELECT gen_random_uuid() AS event_id, u.grp FROM updated u
    WHERE u.finishing > 0
      AND (u.grp).submitted + (u.grp).queued + (u.grp).admitted + (u.grp).running = 0
  ), stamped AS (
    SELECT event_id, (grp).tenant_id, (grp).name,
           job_group_finished_envelope(grp, event_id) AS envelope
    FROM finished
  ), outbox AS (
    INSERT INTO outbox_messages (id, subject, envelope)
    SELECT event_id, 'roam.evt.v1.group.finished', envelope FROM stamped
  )
  INSERT INTO events (id, tenant_id, type, subject, time, envelope)
  SELECT event_id, tenant_id, 'roam.evt.v1.group.finished', 'groups/' || name, now(), envelope
  FROM stamped;
  RETURN NULL;
END
$$;

CREATE FUNCTION job_groups_count_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE job_groups g SET
    submitted = g.submitted - d.submitted, queued = g.queued - d.queued,
    admitted = g.admitted - d.admitted, running = g.running - d.running,
    succeeded = g.succeeded - d.succeeded, failed = g.failed - d.failed,
    cancelled = g.cancelled - d.cancelled, updated_at = now()
  FROM (
    SELECT tenant_id, group_name AS name,
           count(*) FILTER (WHERE phase = 'Submitted') AS submitted,
           count(*) FILTER (WHERE phase = 'Queued') AS queued,
           count(*) FILTER (WHERE phase = 'Admitted') AS admitted,
           count(*) FILTER (WHERE phase = 'Running') AS running,
           count(*) FILTER (WHERE phase = 'Succeeded') AS succeeded,
           count(*) FILTER (WHERE phase = 'Failed') AS failed,
           count(*) FILTER (WHERE phase = 'Cancelled') AS cancelled
    FROM job_rows WHERE group_name IS NOT NULL GROUP BY tenant_id, group_name
  ) d
  WHERE g.tenant_id = d.tenant_id AND g.name = d.name;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_group_count_insert AFTER INSERT ON "jobs"
  REFERENCING NEW TABLE AS job_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_groups_count_insert();

CREATE TRIGGER jobs_group_count_update AFTER UPDATE ON "jobs"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_groups_count_update();

CREATE TRIGGER jobs_group_count_delete AFTER DELETE ON "jobs"
  REFERENCING OLD TABLE AS job_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_groups_count_delete();
