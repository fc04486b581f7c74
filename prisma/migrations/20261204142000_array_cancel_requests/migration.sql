-- AlterTable: a cancel of an array larger than one batch is recorded here and finished by the
-- reconciler's array-cancel loop (docs/api.md#arrays).
ALTER TABLE "job_arrays" ADD COLUMN     "cancel_requested_at" TIMESTAMPTZ(3);

-- CreateIndex: the loop's read, the arrays with a cancel under way.
CREATE INDEX "job_arrays_cancel_requested_at_idx" ON "job_arrays"("cancel_requested_at");
