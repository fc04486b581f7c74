-- A tenant's TPU quota in chips (docs/scheduling.md#flavors): `max_tpu` caps all TPU types
-- together, `max_tpu_by_type` (`{"tpu-v5-lite-podslice": 16}`) one type each; null is no cap.
ALTER TABLE "tenants" ADD COLUMN "max_tpu" INTEGER,
ADD COLUMN "max_tpu_by_type" JSONB;

-- A negative quota is refused (a trigger, not a CHECK constraint).
CREATE FUNCTION "tenants_tpu_quota_is_legal"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."max_tpu" IS NOT NULL AND NEW."max_tpu" < 0 THEN
    RAISE EXCEPTION 'max_tpu must not be negative' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "tenants_tpu_quota_is_legal" BEFORE INSERT OR UPDATE OF "max_tpu" ON "tenants"
  FOR EACH ROW EXECUTE FUNCTION "tenants_tpu_quota_is_legal"();

-- The TPU chips a job holds once admitted: its slice's chips (the product of its topology's
-- sides), once per pod of a multi-pod job (each of whose pods takes a whole single-host slice).
-- Derived by the database from the spec, like the flavor columns, so every writer agrees.
ALTER TABLE "jobs" ADD COLUMN "tpu_chips" INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION "jobs_tpu_chips_from_spec"() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER "jobs_tpu_chips_from_spec" BEFORE INSERT OR UPDATE OF "spec", "pod_sets" ON "jobs"
  FOR EACH ROW EXECUTE FUNCTION "jobs_tpu_chips_from_spec"();

UPDATE "jobs" SET "spec" = "spec" WHERE "tpu_type" IS NOT NULL;
