-- AlterTable
ALTER TABLE "outbox_messages" ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3),
ADD COLUMN     "parked_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "outbox_messages_parked_at_idx" ON "outbox_messages"("parked_at");

-- Rows the relay had already given up on (it skipped rows at 20 attempts) are parked, so they
-- show up for operators instead of staying invisible.
UPDATE "outbox_messages" SET "parked_at" = now()
WHERE "published_at" IS NULL AND "attempts" >= 20;
