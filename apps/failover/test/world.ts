import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import type { KubernetesObject } from '@roam/kube';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { JOBSET_LABELS } from '@roam/sim';

import {
  ADMIN_TOKEN,
  call,
  type Call,
  type Harness,
  startHarness,
} from '../../../test/support/harness.js';
import { failoverEnv } from '../src/failover.config.js';
import { FailoverModule } from '../src/failover.module.js';

export { ADMIN_TOKEN, call };

const TPU_LABELS = {
  'cloud.google.com/gke-tpu-accelerator': 'tpu-v5p-slice',
  'cloud.google.com/gke-tpu-topology': '2x2x4',
  'cloud.google.com/gke-accelerator-count': '4',
  'roam.test/slice': 'true',
};
const SPARE = [{ key: 'roam.test/spare', value: 'true', effect: 'NoSchedule' as const }];

/**
 * The failover controller's pools: `my-node-pool` (a 2x2x4 TPU slice: 4 nodes × 4 chips, the only pool
 * untainted, so roam jobs land there), `test-pool` (the failover controller's kind node, 8x8x8), a spare
 * slice a restarted JobSet can move to, and `short-pool`, one node short of its topology.
 */
export const WORLD = {
  pools: [
    { name: 'my-node-pool', nodes: 4, labels: TPU_LABELS, recreateAfterSeconds: 5 },
    {
      name: 'spare-pool',
      nodes: 4,
      labels: TPU_LABELS,
      taints: SPARE,
    },
    {
      name: 'test-pool',
      nodes: 1,
      labels: { ...TPU_LABELS, 'cloud.google.com/gke-tpu-topology': '8x8x8' },
      taints: SPARE,
    },
    { name: 'short-pool', nodes: 3, labels: TPU_LABELS, taints: SPARE },
  ],
};

/** The failover worker's settings against the harness's simulator. */
export function failoverSettings(h: Harness): Record<string, string> {
  return {
    ...h.env,
    COMPUTE_API_URL: h.sim.computeUrl,
    GCE_PROJECT: 'roam-sim',
    GKE_CLUSTER: 'sim',
  };
}

export async function startWorld(
  name: string,
): Promise<{ h: Harness; startWorker(): Promise<RoamApp<unknown>> }> {
  const h = await startHarness(name, {}, { world: WORLD });
  return {
    h,
    startWorker: () =>
      createRoamApp({
        name: 'failover',
        schema: failoverEnv,
        module: FailoverModule,
        env: failoverSettings(h),
      }),
  };
}

/** Runs the real kubectl against the simulator, asynchronously (the simulator is in-process). */
export async function kubectl(h: Harness, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('kubectl', [
    '--kubeconfig',
    h.sim.kubeconfigPath,
    ...args,
  ]);
  return stdout;
}

export const unschedulable = (h: Harness, node: string) =>
  kubectl(h, 'get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}');

export function postAction(h: Harness, body: unknown, path = '/actions'): Promise<Call> {
  return call(h.url, 'POST', path, body, ADMIN_TOKEN);
}

/** A JobSet whose pods run on the `roam.test/slice` pools (spare ones tolerated). */
export function jobSet(name: string): KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'jobset.x-k8s.io/v1alpha2',
    kind: 'JobSet',
    metadata: { name, namespace: 'default' },
    spec: {
      failurePolicy: { maxRestarts: 5 },
      replicatedJobs: [
        {
          name: 'workers',
          replicas: 2,
          template: {
            spec: {
              parallelism: 1,
              completions: 1,
              backoffLimit: 0,
              template: {
                spec: {
                  restartPolicy: 'Never',
                  nodeSelector: { 'roam.test/slice': 'true' },
                  tolerations: [
                    { key: 'roam.test/spare', operator: 'Exists', effect: 'NoSchedule' },
                  ],
                  containers: [{ name: 'main', image: 'busybox', command: ['sleep', '10000000'] }],
                },
              },
            },
          },
        },
      ],
    },
  };
}

interface PodLike extends KubernetesObject {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

/** The JobSet's running pods with their restart attempt, job index and node. */
export async function jobSetPods(h: Harness, name: string) {
  const page = await h.kube.list<PodLike>('v1', 'Pod', {
    namespace: 'default',
    labelSelector: `${JOBSET_LABELS.name}=${name}`,
  });
  return page.items.map((pod) => ({
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    attempt: pod.metadata?.labels?.[JOBSET_LABELS.restartAttempt],
    jobIndex: pod.metadata?.labels?.[JOBSET_LABELS.jobIndex],
    node: pod.spec?.nodeName,
    phase: pod.status?.phase,
  }));
}
