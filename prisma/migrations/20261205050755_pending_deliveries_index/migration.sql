-- CreateIndex: each endpoint's pending deliveries, in due order. The notifier's claim reads up
-- to its allowance of them per endpoint; with the planner's statistics taken mid fan-out it read
-- them through webhook_deliveries_endpoint_id_event_id_key, every delivery the endpoint ever had
-- (delivered ones included), so a claim grew with the endpoint's history (in a 4,000-job bench
-- run, 1,878 claims read 3.5 million index entries). A delivery leaves it once delivered.
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries"("endpoint_id", "next_attempt_at") WHERE (status = 'pending');

-- DropIndex: the claim was its only reader, and every delivery paid for it on each of its three
-- writes (insert, lease, outcome).
DROP INDEX "webhook_deliveries_status_next_attempt_at_idx";
