-- Tenant-owned rows get a foreign key to their tenant, so nothing outlives a deleted tenant
-- and a re-registered id inherits nothing. Rows left behind by tenants deleted before this
-- migration belong to no one any more: they are removed first, or the constraints could not
-- be added.
DELETE FROM "events" WHERE "tenant_id" IS NOT NULL AND "tenant_id" NOT IN (SELECT "id" FROM "tenants");
DELETE FROM "webhook_deliveries" WHERE "tenant_id" NOT IN (SELECT "id" FROM "tenants");
DELETE FROM "webhook_endpoints" WHERE "tenant_id" NOT IN (SELECT "id" FROM "tenants");
DELETE FROM "offloads" WHERE "tenant_id" IS NOT NULL AND "tenant_id" NOT IN (SELECT "id" FROM "tenants");
DELETE FROM "idempotency_keys"
  WHERE "principal" LIKE 'tenant:%' AND substr("principal", 8) NOT IN (SELECT "id" FROM "tenants");

-- AlterEnum
ALTER TYPE "TenantStatus" ADD VALUE 'failed';

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "offloads" ADD CONSTRAINT "offloads_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
