import { gpuCount, gpuTypeOf, type JobSpec, tpuTopologyChips } from '@roam/contracts';
import {
  type AdmittedCapacity,
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
          matchExpressions: { key: string; operator: 'NotIn' | 'In'; values: string[] }[];
        }[];
      };
    };
  };
  tolerations?: { key: string; operator: 'Exists'; effect: 'NoSchedule' }[];
}

/** `{ admittedCapacity }` when a stored value is one admission writes, else nothing. */
export function withAdmittedCapacity(value: string | null | undefined): {
  admittedCapacity?: AdmittedCapacity;
} {
  return value === 'spot' || value === 'on-demand' ? { admittedCapacity: value } : {};
}

/** `{ admittedPools }` when a stored value is a list of pool names, else nothing. */
export function withAdmittedPools(value: unknown): { admittedPools?: string[] } {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')
    ? { admittedPools: value }
    : {};
}

/**
 * Where Kubernetes may bind the pod: the same nodes admission counted it on
 * (docs/scheduling.md#flavors). GPU type, TPU type and topology, and spot are labels a node
 * carries; on-demand is the absence of the spot label, which only a node affinity can say. A
 * `prefer-spot` job is bound to the capacity admission chose for it (`admitted`); without one
 * (admitted by Kueue) it may go to either.
 */
export function flavorPlacement(spec: JobSpec, admitted?: AdmittedCapacity): FlavorPlacement {
  const capacity = admitted ?? spec.capacity;
  const nodeSelector: Record<string, string> = {};
  const gpuType = gpuTypeOf(spec.resources);
  if (gpuType !== undefined) nodeSelector[GKE_ACCELERATOR_LABEL] = gpuType;
  const tpu = spec.resources.tpu;
  if (tpu) {
    nodeSelector[GKE_TPU_ACCELERATOR_LABEL] = tpu.type;
    nodeSelector[GKE_TPU_TOPOLOGY_LABEL] = tpu.topology;
  }
  if (capacity === 'spot') nodeSelector[GKE_SPOT_LABEL] = 'true';
  const tolerations: NonNullable<FlavorPlacement['tolerations']> = [];
  if (gpuCount(spec.resources) > 0)
    tolerations.push({ key: GPU_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' });
  if (tpu) tolerations.push({ key: TPU_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' });
  return {
    ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
    ...(capacity === 'on-demand'
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
 * `google.com/tpu` for the chips of one host of its TPU slice (`chipsPerHost`, from the slice's
 * layout on the cluster; every chip of the slice when not given: a single-host slice).
 */
export function acceleratorRequests(spec: JobSpec, chipsPerHost?: number): Record<string, string> {
  const gpu = gpuCount(spec.resources);
  if (gpu > 0) return { 'nvidia.com/gpu': String(gpu) };
  const tpu = spec.resources.tpu;
  if (tpu) return { [TPU_RESOURCE]: String(chipsPerHost ?? tpuTopologyChips(tpu.topology)) };
  return {};
}
