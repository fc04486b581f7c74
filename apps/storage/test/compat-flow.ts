import { expect } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness } from '../../../test/support/harness.js';

/** SUMO-K8's `POST /jobs` form (scenario_id, cpu_request, memory_gi, sumo_files). */
export function compatForm(zip: Buffer | string, filename = 'scenario.zip'): FormData {
  const form = new FormData();
  form.set('scenario_id', 'corridor');
  form.set('cpu_request', '1');
  form.set('memory_gi', '1');
  form.set('sumo_files', new Blob([zip]), filename);
  return form;
}

/** Resolves once the job has succeeded; fails at once, with its reason, if it failed. */
export function succeeded(h: Harness, jobId: string): Promise<true> {
  return eventually(
    'the job to succeed',
    async () => {
      const job = await h.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
      if (job.status === 'failed') throw new Error(`job failed: ${job.reason} ${job.message}`);
      return job.status === 'succeeded' || undefined;
    },
    { timeoutMs: 30_000 },
  );
}

/**
 * Deletes the job's Kubernetes Job, waits for its pods to go, and reads `GET /jobs/{id}/logs`,
 * which must then come from the archive.
 */
export async function logsAfterPodsGone(
  h: Harness,
  key: string,
  namespace: string,
  jobId: string,
): Promise<{ logs: string; source: string }> {
  await h.kube.delete({ apiVersion: 'batch/v1', kind: 'Job', namespace, name: `roam-${jobId}-1` });
  await eventually('the pods to be gone', async () => {
    const left = await h.kube.list('v1', 'Pod', {
      namespace,
      labelSelector: `roam.dev/job-id=${jobId}`,
    });
    return left.items.length === 0;
  });
  const logs = await call(h.url, 'GET', `/jobs/${jobId}/logs`, undefined, key);
  expect(logs.status).toBe(200);
  expect(logs.body.source).toBe('archive');
  return logs.body as { logs: string; source: string };
}
