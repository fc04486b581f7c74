-- CreateIndex
CREATE INDEX "jobs_admission_queue_idx" ON "jobs"("tenant_id", "status", "priority" DESC, "id");
