// Kueue's visibility API (visibility.kueue.x-k8s.io/v1beta1): the pending workloads of a
// ClusterQueue or a LocalQueue, in the order Kueue would admit them, with their positions.
import type { KueueController, PendingInfo } from './controller.js';

const BASE = '/apis/visibility.kueue.x-k8s.io/v1beta1/';
const CLUSTER_QUEUE = /^clusterqueues\/([^/]+)\/pendingworkloads$/;
const LOCAL_QUEUE = /^namespaces\/([^/]+)\/localqueues\/([^/]+)\/pendingworkloads$/;

const summary = (items: PendingInfo[]) => ({
  kind: 'PendingWorkloadsSummary',
  apiVersion: 'visibility.kueue.x-k8s.io/v1beta1',
  metadata: { creationTimestamp: null },
  items: items.map((p) => ({
    metadata: { name: p.name, namespace: p.namespace, creationTimestamp: p.creationTimestamp },
    priority: p.priority,
    localQueueName: p.localQueue,
    positionInClusterQueue: p.positionInClusterQueue,
    positionInLocalQueue: p.positionInLocalQueue,
  })),
});

/** The visibility document for `path`, or undefined when the path is not one of its routes. */
export function visibilityRoute(kueue: KueueController, path: string): object | undefined {
  if (!path.startsWith(BASE)) return undefined;
  const rest = path.slice(BASE.length);
  const cq = CLUSTER_QUEUE.exec(rest);
  if (cq) return summary(kueue.pendingWorkloads({ clusterQueue: decodeURIComponent(cq[1]!) }));
  const lq = LOCAL_QUEUE.exec(rest);
  if (lq)
    return summary(
      kueue.pendingWorkloads({
        namespace: decodeURIComponent(lq[1]!),
        localQueue: decodeURIComponent(lq[2]!),
      }),
    );
  return undefined;
}
