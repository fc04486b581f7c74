-- CreateIndex: the jobs admitted or running (and those with a Kubernetes Job waiting in Kueue).
-- The reconciler's page through them (keyset on id) walked jobs_pkey past every pending job, and
-- admission's in-flight read (pending and admitted) scanned every pending job: both grew with
-- the backlog (with 100,000 jobs pending, 384 ms / 103k buffers and 120 ms a call; now 0.03 ms
-- and 0.07 ms). A job enters it only once admitted.
CREATE INDEX "jobs_active_idx" ON "jobs"("id") WHERE ((status = 'pending' AND (admitted_at IS NOT NULL OR placement IS NOT NULL)) OR status = 'running');
