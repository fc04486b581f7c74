-- AlterTable: an array's element rows are created in chunks after its submit (the first chunk
-- in the submit's transaction, the rest by the scheduler), from the record kept here
-- (docs/architecture.md#rule-10).
ALTER TABLE "job_arrays" ADD COLUMN     "element_record" JSONB,
ADD COLUMN     "materialized" INTEGER NOT NULL DEFAULT 0;

-- Arrays submitted before this have every element row.
UPDATE "job_arrays" SET "materialized" = "size";

-- CreateIndex: the scheduler's read, the arrays with element rows still to create, oldest first.
CREATE INDEX "job_arrays_unmaterialized_idx" ON "job_arrays" ("created_at")
  WHERE "materialized" < "size";
