-- job_history is keyed by (job_id, seq): every ledger step writes a row, and the surrogate id
-- cost each one a sequence call and an index entry. The existing unique index becomes the
-- primary key as it is (no rebuild, however many rows there are).
ALTER TABLE "job_history" DROP CONSTRAINT "job_history_pkey";
ALTER TABLE "job_history" DROP COLUMN "id";
ALTER TABLE "job_history" ADD CONSTRAINT "job_history_pkey"
  PRIMARY KEY USING INDEX "job_history_job_id_seq_key";
