import { gpuCount, gpuTypeOf, type JobSpec, tpuTopologyChips } from '@roam/contracts';
import {
  GKE_ACCELERATOR_LABEL,
  GKE_SPOT_LABEL,
  GKE_TPU_ACCELERATOR_LABEL,
  GKE_TPU_TOPOLOGY_LABEL,
  GPU_TAINT_KEY,
  TPU_RESOURCE,
  TPU_TAINT_KEY,
} from '@roam/domain';

/** The pod spec fields that bind a job's pod to the nodes of its flavor. */
export interface FlavorPlacement {
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: {
          matchExpressions: { key: string; operator: 'NotIn'; values: string[] }[];
        }[];
      };
    };
  };
  tolerations?: { key: string; operator: 'Exists'; effect: 'NoSchedule' }[];
}

/**
 * Where Kubernetes may bind the pod: the same nodes admission counted it on
 * (docs/scheduling.md#flavors). GPU type, TPU type and topology, and spot are labels a node
 * carries; on-demand is the absence of the spot label, which only a node affinity can say.
 */
export function flavorPlacement(spec: JobSpec): FlavorPlacement {
  const nodeSelector: Record<string, string> = {};
  const gpuType = gpuTypeOf(spec.resources);
  if (gpuType !== undefined) nodeSelector[GKE_ACCELERATOR_LABEL] = gpuType;
  const tpu = spec.resources.tpu;
  if (tpu) {
    nodeSelector[GKE_TPU_ACCELERATOR_LABEL] = tpu.type;
    nodeSelector[GKE_TPU_TOPOLOGY_LABEL] = tpu.topology;
  }
  if (spec.capacity === 'spot') nodeSelector[GKE_SPOT_LABEL] = 'true';
  const tolerations: NonNullable<FlavorPlacement['tolerations']> = [];
  if (gpuCount(spec.resources) > 0)
    tolerations.push({ key: GPU_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' });
  if (tpu) tolerations.push({ key: TPU_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' });
  return {
    ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
    ...(spec.capacity === 'on-demand'
      ? {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: GKE_SPOT_LABEL, operator: 'NotIn', values: ['true'] },
                    ],
                  },
                ],
              },
            },
          },
        }
      : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
  };
}

/**
 * The accelerator requests (and equal limits) of the job's container: `nvidia.com/gpu`, or
 * `google.com/tpu` for every chip of a single-host TPU slice.
 */
export function acceleratorRequests(spec: JobSpec): Record<string, string> {
  const gpu = gpuCount(spec.resources);
  if (gpu > 0) return { 'nvidia.com/gpu': String(gpu) };
  const tpu = spec.resources.tpu;
  if (tpu) return { [TPU_RESOURCE]: String(tpuTopologyChips(tpu.topology)) };
  return {};
}
