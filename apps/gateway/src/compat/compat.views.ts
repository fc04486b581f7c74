import { namespaceFor } from '@roam/domain';

import { type CompatJob, toCompatStatus } from './compat.schemas.js';

export interface CompatJobRow {
  id: string;
  tenantId: string;
  name: string;
  status: string;
  phase: string;
  reason: string | null;
  message: string | null;
  attempt: number;
  exitCode: number | null;
  placement: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

function placementField(placement: unknown, field: 'job' | 'pod'): string | null {
  if (placement === null || typeof placement !== 'object') return null;
  const value = (placement as Record<string, unknown>)[field];
  return typeof value === 'string' && value !== '' ? value : null;
}

export function compatJobView(job: CompatJobRow): CompatJob {
  return {
    job_id: job.id,
    status: toCompatStatus(job.status),
    submitted_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    name: job.name,
    phase: job.phase,
    reason: job.reason,
    message: job.message,
    attempt: job.attempt,
    exit_code: job.exitCode,
    k8s_namespace: namespaceFor(job.tenantId),
    k8s_job_name: placementField(job.placement, 'job'),
    pod_name: placementField(job.placement, 'pod'),
  };
}
