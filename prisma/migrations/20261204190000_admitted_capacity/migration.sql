-- AlterTable: the capacity admission placed a `prefer-spot` job on (`spot` or `on-demand`),
-- written with the admission; the pod template and the in-flight jobs read it, so Kubernetes
-- binds the pods where admission counted them (docs/scheduling.md#flavors). Null for a job
-- naming any other capacity.
ALTER TABLE "jobs" ADD COLUMN "admitted_capacity" TEXT;
