import { Inject, Injectable } from '@nestjs/common';
import type { ComputePort } from '@roam/cloud';
import {
  type FailoverRequest,
  type FailoverSnapshot,
  GKE_LABELS,
  JOBSET_POD_LABELS,
  type JobSetFacts,
  type NodeFacts,
  type PodFacts,
} from '@roam/domain';
import { Kube, type KubernetesObject } from '@roam/kube';

import { COMPUTE } from '../compute.provider.js';
import { ActionRunsRepository } from './action-runs.repository.js';

interface NodeObject extends KubernetesObject {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

interface PodObject extends KubernetesObject {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

interface JobSetObject extends KubernetesObject {
  spec?: { replicatedJobs?: { name: string }[] };
  status?: { restarts?: number; conditions?: { type: string; status: string }[] };
}

const JOBSET = { apiVersion: 'jobset.x-k8s.io/v1alpha2', kind: 'JobSet' };
/** Pods per node are listed this many nodes at a time. */
const PARALLEL = 16;

const podFacts = (pod: PodObject): PodFacts => ({
  namespace: pod.metadata?.namespace ?? '',
  name: pod.metadata?.name ?? '',
  uid: pod.metadata?.uid ?? '',
  node: pod.spec?.nodeName ?? null,
  phase: pod.status?.phase ?? 'Pending',
  labels: pod.metadata?.labels ?? {},
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Reads the snapshot a plan is built from: the pool's nodes, their pods, jobs, JobSet, instances. */
@Injectable()
export class ClusterSnapshotReader {
  constructor(
    private readonly kube: Kube,
    @Inject(COMPUTE) private readonly compute: ComputePort,
    private readonly actions: ActionRunsRepository,
  ) {}

  async read(request: FailoverRequest): Promise<FailoverSnapshot> {
    const pool = request.nodePool ?? '';
    const nodes = (
      await collect(
        this.kube.listAll<NodeObject>('v1', 'Node', {
          labelSelector: `${GKE_LABELS.nodePool}=${pool}`,
        }),
      )
    ).map((node): NodeFacts => ({
      name: node.metadata?.name ?? '',
      labels: node.metadata?.labels ?? {},
      unschedulable: node.spec?.unschedulable === true,
      ready: (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    }));
    const pods: PodFacts[] = [];
    for (let i = 0; i < nodes.length; i += PARALLEL) {
      const pages = await Promise.all(
        nodes.slice(i, i + PARALLEL).map((node) =>
          collect(
            this.kube.listAll<PodObject>('v1', 'Pod', {
              fieldSelector: `spec.nodeName=${node.name}`,
            }),
          ),
        ),
      );
      for (const page of pages) pods.push(...page.map(podFacts));
    }
    let jobset: JobSetFacts | undefined;
    if (request.type === 'cordon_nodepool_and_restart_jobset' && request.jobsetName) {
      const object = await this.kube.get<JobSetObject>({
        ...JOBSET,
        name: request.jobsetName,
        namespace: request.namespace,
      });
      if (object) {
        const done = (object.status?.conditions ?? []).some(
          (c) => (c.type === 'Completed' || c.type === 'Failed') && c.status === 'True',
        );
        jobset = {
          namespace: request.namespace,
          name: request.jobsetName,
          restarts: object.status?.restarts ?? 0,
          replicatedJobs: (object.spec?.replicatedJobs ?? []).map((rj) => rj.name),
          finished: done,
        };
        // Its leader may run outside the pool; the plan needs it wherever it is.
        const known = new Set(pods.map((p) => `${p.namespace}/${p.name}`));
        const own = await collect(
          this.kube.listAll<PodObject>('v1', 'Pod', {
            namespace: request.namespace,
            labelSelector: `${JOBSET_POD_LABELS.name}=${request.jobsetName},${JOBSET_POD_LABELS.jobIndex}=0`,
          }),
        );
        pods.push(...own.map(podFacts).filter((p) => !known.has(`${p.namespace}/${p.name}`)));
      }
    }
    const repair =
      request.type === 'cordon_and_repair_nodepool' || request.type === 'repair_nodepool';
    return {
      nodes,
      pods,
      roamJobs: await this.actions.roamJobsOn(nodes.map((n) => n.name)),
      ...(jobset ? { jobset } : {}),
      ...(repair ? { instances: await this.compute.listInstances(pool) } : {}),
    };
  }
}
