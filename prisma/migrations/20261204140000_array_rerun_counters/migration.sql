-- A failed element can be rerun (POST /api/v1/arrays/{id}/retry): an array or group that had
-- finished has unfinished jobs again, so its `finished_at` goes back to NULL, and its
-- `*.finished` event is written again when they finish. Same functions as before otherwise.

CREATE OR REPLACE FUNCTION job_groups_count_update() RETURNS trigger
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
        WHEN g.submitted + d.submitted + g.queued + d.queued + g.admitted + d.admitted
             + g.running + d.running > 0 THEN NULL
        WHEN d.finishing > 0 THEN now()
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

CREATE OR REPLACE FUNCTION job_arrays_count_update() RETURNS trigger
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
        WHEN a.submitted + d.submitted + a.queued + d.queued + a.admitted + d.admitted
             + a.running + d.running > 0 THEN NULL
        WHEN d.finishing > 0 THEN now()
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
