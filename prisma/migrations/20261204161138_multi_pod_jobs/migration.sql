-- AlterTable: a multi-pod job's pod sets (one pod's requests per set); null for a single pod.
ALTER TABLE "jobs" ADD COLUMN     "pod_sets" JSONB;
