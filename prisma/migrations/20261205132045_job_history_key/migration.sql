-- job_history is keyed by (job_id, seq): every ledger step writes a row, and the surrogate key
-- cost each one an index entry. The existing unique index becomes the primary key as it is (no
-- rebuild, however many rows there are). The id column loses its index but stays, still filled
-- by its sequence, for one release: a gateway of the previous release reads it during an
-- upgrade. A later migration drops it.
ALTER TABLE "job_history" DROP CONSTRAINT "job_history_pkey";
ALTER TABLE "job_history" ADD CONSTRAINT "job_history_pkey"
  PRIMARY KEY USING INDEX "job_history_job_id_seq_key";
