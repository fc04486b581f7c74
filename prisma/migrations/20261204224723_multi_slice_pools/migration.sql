-- AlterTable: the node pool of each TPU slice admission placed a job's slices on, in slice order
-- (a JSON array of pool names), written with the admission; the pod template binds each slice's
-- pods to its pool (docs/scheduling.md#flavors). Null for a job without multi-host slices.
ALTER TABLE "jobs" ADD COLUMN     "admitted_pools" JSONB;

-- A job of several multi-host TPU slices stores one host's chips on its pod set (`tpu`, with
-- `slices`): it holds the sum over its pods (slices × hosts × chips per host), not its
-- topology's chips once per pod. Other jobs are derived as before.
CREATE OR REPLACE FUNCTION "jobs_tpu_chips_from_spec"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  topology TEXT := NEW."spec" -> 'resources' -> 'tpu' ->> 'topology';
  side TEXT;
  chips BIGINT := 1;
  pods BIGINT := 1;
BEGIN
  IF topology IS NULL THEN
    NEW."tpu_chips" := 0;
    RETURN NEW;
  END IF;
  IF jsonb_typeof(NEW."pod_sets") = 'array' AND EXISTS (
    SELECT 1 FROM jsonb_array_elements(NEW."pod_sets") s WHERE jsonb_typeof(s -> 'tpu') = 'number'
  ) THEN
    SELECT coalesce(sum((s ->> 'count')::BIGINT * coalesce((s ->> 'tpu')::BIGINT, 0)), 0)
      INTO chips FROM jsonb_array_elements(NEW."pod_sets") s;
    NEW."tpu_chips" := LEAST(chips, 2147483647);
    RETURN NEW;
  END IF;
  FOREACH side IN ARRAY string_to_array(topology, 'x') LOOP
    IF side !~ '^[0-9]{1,6}$' THEN
      chips := 0;
      EXIT;
    END IF;
    chips := LEAST(chips * side::BIGINT, 2147483647);
  END LOOP;
  IF (NEW."spec" ? 'parallelism' OR NEW."spec" ? 'completions' OR NEW."spec" ? 'replicated_jobs')
     AND jsonb_typeof(NEW."pod_sets") = 'array' THEN
    SELECT coalesce(sum((s ->> 'count')::BIGINT), 1) INTO pods
      FROM jsonb_array_elements(NEW."pod_sets") s;
  END IF;
  NEW."tpu_chips" := LEAST(chips * pods, 2147483647);
  RETURN NEW;
END $$;
