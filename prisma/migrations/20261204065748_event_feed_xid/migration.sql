-- The event feed reads events in (writing transaction, position) order, below the oldest
-- transaction still open. Rows that exist already all get this migration's transaction id,
-- so among them the order stays the position order.
-- AlterTable
ALTER TABLE "events" ADD COLUMN     "xid" xid8 NOT NULL DEFAULT pg_current_xact_id();

-- CreateIndex
CREATE INDEX "events_xid_position_idx" ON "events"("xid", "position");

-- CreateIndex
CREATE INDEX "events_tenant_id_xid_position_idx" ON "events"("tenant_id", "xid", "position");
