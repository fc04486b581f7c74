-- Indexes every write maintained for reads that no longer need them (each event, outbox row and
-- relay mark inserted an entry), and the one read the outbox relay runs every pass.

-- DropIndex: the event feed reads a tenant's events in (xid, position) order
-- (events_tenant_id_xid_position_idx, which also serves a tenant's deletion).
DROP INDEX "events_tenant_id_position_idx";

-- DropIndex
DROP INDEX "outbox_messages_parked_at_idx";

-- CreateIndex: parked rows only (the operators' list).
CREATE INDEX "outbox_messages_parked_at_idx" ON "outbox_messages"("parked_at") WHERE (parked_at IS NOT NULL);

-- CreateIndex: rows the relay claimed with no outcome yet, what its parking sweep reads every
-- pass (it walked every unpublished row before). A new row has 0 attempts and stays out.
CREATE INDEX "outbox_messages_claimed_idx" ON "outbox_messages"("next_attempt_at") WHERE (published_at IS NULL AND parked_at IS NULL AND attempts > 0);
