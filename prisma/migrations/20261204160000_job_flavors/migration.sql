-- AlterTable: a job's flavor, derived by the database from its spec so the two cannot disagree
-- and nothing that writes jobs has to know about them (docs/scheduling.md#flavors). Admission
-- reads them for the pending window, the in-flight jobs and each tenant's GPUs per type.
ALTER TABLE "jobs"
  ADD COLUMN "gpu_type" TEXT GENERATED ALWAYS AS ("spec" -> 'resources' -> 'gpu' ->> 'type') STORED,
  ADD COLUMN "capacity" TEXT GENERATED ALWAYS AS ("spec" ->> 'capacity') STORED,
  ADD COLUMN "tpu_type" TEXT GENERATED ALWAYS AS ("spec" -> 'resources' -> 'tpu' ->> 'type') STORED,
  ADD COLUMN "tpu_topology" TEXT GENERATED ALWAYS AS ("spec" -> 'resources' -> 'tpu' ->> 'topology') STORED;

-- AlterTable: a tenant's GPU quota per accelerator type, `{"nvidia-l4": 16}`, within max_gpu.
ALTER TABLE "tenants" ADD COLUMN "max_gpu_by_type" JSONB;
