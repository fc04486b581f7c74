-- AlterTable
ALTER TABLE "log_archives" ADD COLUMN     "error" TEXT;

-- CreateTable
CREATE TABLE "stored_jobs" (
    "job_id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "results_error" TEXT,
    "stored_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stored_jobs_pkey" PRIMARY KEY ("job_id")
);

-- CreateIndex
CREATE INDEX "stored_jobs_tenant_id_idx" ON "stored_jobs"("tenant_id");

-- AddForeignKey
ALTER TABLE "stored_jobs" ADD CONSTRAINT "stored_jobs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Jobs that finished before this migration were handled by the earlier storage worker (or are
-- past saving): they are not a backlog, and their Kubernetes Jobs are not held back.
INSERT INTO "stored_jobs" ("job_id", "tenant_id", "stored_at")
SELECT "id", "tenant_id", COALESCE("finished_at", "updated_at") FROM "jobs"
WHERE "status" IN ('succeeded', 'failed', 'cancelled');
