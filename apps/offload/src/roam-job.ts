import { gpuCount, type JobSpec } from '@roam/contracts';
import { jobLabels, kubeJobName, OFFLOADED_LABEL } from '@roam/kube';

import { type KubeJob, RUNPOD } from './kube-objects.js';

/**
 * The Kubernetes Job that stands for an offloaded roam job. The scheduler never created one
 * (the job was not admitted), so the offload worker does: same name and labels as the
 * scheduler's (`kubeJobName`, `jobLabels` from @roam/kube) plus `OFFLOADED_LABEL` (what the
 * offload worker's informer selects), born
 * suspended so the cluster never runs it, annotated as the scheduler would have.
 */
export function roamJob(input: {
  id: string;
  tenantId: string;
  namespace: string;
  name: string;
  attempt: number;
  spec: JobSpec;
}): KubeJob & { apiVersion: string; kind: string } {
  const { spec } = input;
  const labels = {
    ...jobLabels(input.id, input.tenantId, input.attempt),
    [OFFLOADED_LABEL]: 'true',
  };
  const annotations: Record<string, string> = {
    'roam.dev/job-name': input.name,
    [RUNPOD.managed]: 'true',
  };
  if (spec.offload === 'required') annotations[RUNPOD.offload] = 'true';
  const memory = spec.annotations?.[RUNPOD.requiredGpuMemory];
  if (memory) annotations[RUNPOD.requiredGpuMemory] = memory;
  const gpu = String(Math.max(1, gpuCount(spec.resources)));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: kubeJobName(input.id, input.attempt),
      namespace: input.namespace,
      labels,
      annotations,
    },
    spec: {
      suspend: true,
      template: {
        metadata: { annotations: { ...spec.annotations } },
        spec: {
          containers: [
            {
              name: 'main',
              image: spec.image,
              command: spec.command,
              ...(spec.args ? { args: spec.args } : {}),
              env: [
                ...Object.entries(spec.env ?? {}).map(([name, value]) => ({
                  name,
                  value: String(value),
                })),
                { name: 'ROAM_JOB_ID', value: input.id },
              ],
              resources: {
                requests: {
                  cpu: spec.resources.cpu,
                  memory: spec.resources.memory,
                  'nvidia.com/gpu': gpu,
                },
                limits: { 'nvidia.com/gpu': gpu },
              },
            },
          ],
          // Kubernetes requires these on a Job's template; the Job never runs a pod here.
          ...{ restartPolicy: 'Never' },
        },
      },
      ...{ backoffLimit: 0 },
    },
  };
}
