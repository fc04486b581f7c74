-- AlterTable: a job's flavor, which admission reads for the pending window, the in-flight jobs
-- and each tenant's GPUs per type (docs/scheduling.md#flavors).
ALTER TABLE "jobs" ADD COLUMN     "capacity" TEXT,
ADD COLUMN     "gpu_type" TEXT,
ADD COLUMN     "tpu_topology" TEXT,
ADD COLUMN     "tpu_type" TEXT;

-- The columns are derived from the spec by the database on every write, so they cannot disagree
-- with it and nothing that inserts jobs (submit, arrays, pipelines) has to know about them.
CREATE FUNCTION "jobs_flavor_from_spec"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."gpu_type" := NEW."spec" -> 'resources' -> 'gpu' ->> 'type';
  NEW."capacity" := NEW."spec" ->> 'capacity';
  NEW."tpu_type" := NEW."spec" -> 'resources' -> 'tpu' ->> 'type';
  NEW."tpu_topology" := NEW."spec" -> 'resources' -> 'tpu' ->> 'topology';
  RETURN NEW;
END $$;

CREATE TRIGGER "jobs_flavor_from_spec" BEFORE INSERT OR UPDATE OF "spec" ON "jobs"
  FOR EACH ROW EXECUTE FUNCTION "jobs_flavor_from_spec"();

-- AlterTable: a tenant's GPU quota per accelerator type, `{"nvidia-l4": 16}`, within max_gpu.
ALTER TABLE "tenants" ADD COLUMN "max_gpu_by_type" JSONB;
