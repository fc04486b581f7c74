import type { KubernetesObject } from '@roam/kube';

import type { ClusterView } from './admin.schemas.js';

/** Pure shaping of cluster objects for the admin views; no I/O. */

export type Node = KubernetesObject & {
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type: string; status: string; reason?: string }[];
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
  };
};

export type PodLite = KubernetesObject & {
  spec?: { nodeName?: string };
  status?: { phase?: string };
};

export type KubeJob = KubernetesObject & {
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
  };
};

const iso = (value: unknown): string | null =>
  value === undefined || value === null ? null : new Date(value as string | Date).toISOString();

export function clusterView(nodes: Node[], pods: PodLite[]): ClusterView {
  const running = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (node && pod.status?.phase === 'Running') running.set(node, (running.get(node) ?? 0) + 1);
  }
  return {
    nodes: nodes.map((node) => {
      const name = node.metadata?.name ?? '';
      const conditions = node.status?.conditions ?? [];
      return {
        name,
        status: conditions.filter((c) => c.status === 'True').map((c) => c.type),
        conditions: conditions.map((c) => ({
          type: c.type,
          status: c.status,
          reason: c.reason ?? null,
        })),
        unschedulable: node.spec?.unschedulable ?? false,
        capacity: node.status?.capacity ?? {},
        allocatable: node.status?.allocatable ?? {},
        pods_running: running.get(name) ?? 0,
        created: iso(node.metadata?.creationTimestamp),
      };
    }),
    total_nodes: nodes.length,
  };
}

export const k8sStatusOf = (job: KubeJob) => ({
  active: job.status?.active ?? 0,
  succeeded: job.status?.succeeded ?? 0,
  failed: job.status?.failed ?? 0,
});

export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

export function jobTotals(jobs: KubeJob[]) {
  const statuses = jobs.map(k8sStatusOf);
  return {
    total: jobs.length,
    active: statuses.filter((s) => s.active > 0).length,
    succeeded: statuses.filter((s) => s.succeeded > 0).length,
    failed: statuses.filter((s) => s.failed > 0 && s.active === 0 && s.succeeded === 0).length,
  };
}
