import { type JobSpec, tenantAnnotationAllowed } from '@roam/contracts';
import { jobLabels, KUEUE_QUEUE_LABEL, kubeJobName } from '@roam/kube';

import { acceleratorRequests, flavorPlacement } from './flavor-placement.js';
import { type JobFiles, withJobFiles } from './job-files.js';

export interface ManifestInput {
  id: string;
  tenantId: string;
  namespace: string;
  name: string;
  attempt: number;
  spec: JobSpec;
  defaultMaxDurationSeconds: number;
  /** How the pod gets its inputs and gives back its results (job-files.ts). */
  files?: JobFiles;
  /**
   * ROAM_ADMISSION=kueue: the LocalQueue Kueue admits the Job from. The Job is created
   * suspended with the queue-name label; Kueue unsuspends it once its Workload is admitted.
   */
  kueueQueue?: string;
}

/** The LocalQueue of a job that names none (the ROAM controller's DEFAULT_QUEUE). */
export const DEFAULT_QUEUE = 'user-queue';

/** The Job's activeDeadlineSeconds: the job's own limit, or the scheduler's default. */
export const deadlineSeconds = (spec: JobSpec, fallback: number): number =>
  spec.max_duration_seconds ?? fallback;

/**
 * The batch/v1 Job for one attempt. `backoffLimit: 0`: roam owns retries (its policy decides,
 * and each retry is a new attempt with its own Job). No `ttlSecondsAfterFinished`: the
 * reconciler deletes the objects once it has recorded the outcome, so Kubernetes never
 * removes a Job whose end roam has not seen.
 */
export function jobManifest(input: ManifestInput) {
  const { spec } = input;
  const labels = jobLabels(input.id, input.tenantId, input.attempt);
  const requests: Record<string, string> = {
    cpu: spec.resources.cpu,
    memory: spec.resources.memory,
  };
  const limits: Record<string, string> = { memory: spec.resources.memory };
  Object.assign(requests, acceleratorRequests(spec));
  Object.assign(limits, acceleratorRequests(spec));
  const annotations: Record<string, string> = { 'roam.dev/job-name': input.name };
  // The JobSpec schema refuses other keys at submit; a row written before that rule (or by
  // any other path) still never steers the kubelet, the autoscaler or the offload worker.
  const tenantAnnotations = Object.entries(spec.annotations ?? {}).filter(([key]) =>
    tenantAnnotationAllowed(key),
  );
  const podAnnotations: Record<string, string> = {
    ...Object.fromEntries(tenantAnnotations),
    ...annotations,
  };
  if (spec.offload !== 'never') annotations['runpod.io/managed'] = 'true';
  if (spec.offload === 'required') annotations['runpod.io/offload'] = 'true';
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: kubeJobName(input.id, input.attempt),
      namespace: input.namespace,
      labels: input.kueueQueue ? { ...labels, [KUEUE_QUEUE_LABEL]: input.kueueQueue } : labels,
      annotations,
    },
    spec: {
      ...(input.kueueQueue ? { suspend: true } : {}),
      backoffLimit: 0,
      activeDeadlineSeconds: deadlineSeconds(spec, input.defaultMaxDurationSeconds),
      template: {
        metadata: { labels, annotations: podAnnotations },
        // Working directories, the inputs fetcher and the results side: owned by job-files.ts.
        spec: withJobFiles(
          {
            restartPolicy: 'Never',
            // Node selector, affinity and tolerations of its GPU/TPU type and capacity.
            ...flavorPlacement(spec),
            containers: [
              {
                name: 'main',
                image: spec.image,
                command: spec.command,
                ...(spec.args ? { args: spec.args } : {}),
                // The job's own env, then roam's (so a job can tell which attempt it is).
                env: [
                  ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
                  { name: 'ROAM_JOB_ID', value: input.id },
                  { name: 'ROAM_TENANT', value: input.tenantId },
                  { name: 'ROAM_ATTEMPT', value: String(input.attempt) },
                ],
                resources: { requests, limits },
              },
            ],
          },
          input.id,
          input.files,
        ),
      },
    },
  };
}
