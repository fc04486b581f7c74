// Nodes and node pools: the "cloud" side of the simulated cluster. Pools are declared in a
// world file (or the default below); the Cluster handle lets other simulators (cloud compute,
// RunPod) add, remove, break and repair nodes from code.
import { z } from 'zod';
import type { Node, Pod } from '../api/models.js';
import type { KubeObject } from '../api/registry.js';
import { type Clock, EventRecorder, nowIso, setCondition } from '../controllers/runtime.js';
import type { Store } from '../store/store.js';

export const PoolSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  nodes: z.number().int().min(0).default(1),
  capacity: z
    .record(z.string(), z.union([z.string(), z.number()]))
    .default({ cpu: '8', memory: '32Gi', pods: '110' }),
  labels: z.record(z.string(), z.string()).default({}),
  taints: z
    .array(
      z.object({
        key: z.string(),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
      }),
    )
    .default([]),
  instanceType: z.string().default('sim-standard-8'),
  zone: z.string().default('sim-zone-a'),
  /** Recreate a deleted node after this many (simulated) seconds, like a managed instance group. */
  recreateAfterSeconds: z.number().min(0).optional(),
});

export const WorldSchema = z.object({ pools: z.array(PoolSchema) });

export type PoolSpec = z.infer<typeof PoolSchema>;
export type PoolInput = z.input<typeof PoolSchema>;
export type WorldSpec = z.infer<typeof WorldSchema>;

/** CPU, NVIDIA GPU and a 2x2x4 TPU slice (4 hosts × 4 chips), labelled as GKE labels them. */
export const DEFAULT_WORLD: z.input<typeof WorldSchema> = {
  pools: [
    {
      name: 'cpu-pool',
      nodes: 3,
      capacity: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      instanceType: 'n2-standard-16',
    },
    {
      name: 'gpu-pool',
      nodes: 2,
      capacity: {
        cpu: '48',
        memory: '340Gi',
        pods: '110',
        'nvidia.com/gpu': '4',
        'ephemeral-storage': '200Gi',
      },
      labels: {
        'cloud.google.com/gke-accelerator': 'nvidia-l4',
        'nvidia.com/gpu.product': 'NVIDIA-L4',
        'nvidia.com/gpu.count': '4',
      },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      instanceType: 'g2-standard-48',
    },
    {
      name: 'tpu-pool',
      nodes: 4,
      capacity: {
        cpu: '208',
        memory: '448Gi',
        pods: '110',
        'google.com/tpu': '4',
        'ephemeral-storage': '100Gi',
      },
      labels: {
        'cloud.google.com/gke-tpu-accelerator': 'tpu-v5p-slice',
        'cloud.google.com/gke-tpu-topology': '2x2x4',
        'cloud.google.com/gke-accelerator-count': '4',
      },
      taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
      instanceType: 'ct5p-hightpu-4t',
      recreateAfterSeconds: 60,
    },
  ],
};

export interface PoolInfo {
  spec: PoolSpec;
  nodes: string[];
}

export class Cluster {
  private readonly pools = new Map<string, PoolSpec>();
  private readonly events: EventRecorder;
  private readonly cancels: Array<() => void> = [];
  private ipCounter = 10;

  constructor(
    readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.events = new EventRecorder(store, 'node-controller');
  }

  start(world: WorldSpec): void {
    this.store.onChange((key, ev) => {
      if (key === 'nodes' && ev.type === 'DELETED') this.onNodeDeleted(ev.object);
    });
    for (const pool of world.pools) this.addPool(pool);
  }

  /** Declares a pool and creates its missing nodes. */
  addPool(input: PoolInput): PoolInfo {
    const spec = PoolSchema.parse(input);
    this.pools.set(spec.name, spec);
    for (let i = 0; i < spec.nodes; i += 1) {
      const name = `${spec.name}-${i}`;
      if (!this.store.get('nodes', undefined, name)) this.createNode(spec, name);
    }
    return this.pool(spec.name)!;
  }

  listPools(): PoolInfo[] {
    return [...this.pools.keys()].map((n) => this.pool(n)!);
  }

  pool(name: string): PoolInfo | undefined {
    const spec = this.pools.get(name);
    if (!spec) return undefined;
    const nodes = [...this.store.list('nodes')]
      .filter((n) => n.metadata.labels?.['cloud.google.com/gke-nodepool'] === name)
      .map((n) => n.metadata.name ?? '');
    return { spec, nodes: nodes.sort() };
  }

  /** Sets whether a deleted node of the pool comes back, and after how long. */
  setRecreate(pool: string, afterSeconds: number | undefined): void {
    const spec = this.pools.get(pool);
    if (!spec) throw new Error(`unknown pool ${pool}`);
    spec.recreateAfterSeconds = afterSeconds;
  }

  /** Adds one node to a pool (scale up); returns its name. */
  addNode(pool: string): string {
    const spec = this.pools.get(pool);
    if (!spec) throw new Error(`unknown pool ${pool}`);
    let i = 0;
    while (this.store.get('nodes', undefined, `${pool}-${i}`)) i += 1;
    const name = `${pool}-${i}`;
    this.createNode(spec, name);
    return name;
  }

  createNode(spec: PoolSpec, name: string): KubeObject {
    // A kubelet always reports pod slots and node disk; a pool that names neither gets its
    // defaults, so pods that request ephemeral storage (roam's helpers do) still fit.
    const capacity: Record<string, string> = {
      pods: '110',
      'ephemeral-storage': '100Gi',
      ...Object.fromEntries(Object.entries(spec.capacity).map(([k, v]) => [k, String(v)])),
    };
    const ip = `10.0.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter % 250) + 2}`;
    this.ipCounter += 1;
    const now = nowIso();
    const conditions = [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ].map(([type, status, reason]) => ({
      type,
      status,
      reason,
      message: reason === 'KubeletReady' ? 'kubelet is posting ready status (simulated)' : reason,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    }));
    return this.store.create('nodes', {
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': spec.instanceType,
          'topology.kubernetes.io/zone': spec.zone,
          'cloud.google.com/gke-nodepool': spec.name,
          'sim.roam.dev/pool': spec.name,
          ...spec.labels,
        },
        annotations: { 'sim.roam.dev/simulated': 'true' },
      },
      spec: {
        providerID: `sim://${spec.zone}/${name}`,
        ...(spec.taints.length ? { taints: spec.taints } : {}),
      },
      status: {
        capacity,
        allocatable: capacity,
        conditions,
        addresses: [
          { type: 'InternalIP', address: ip },
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          kubeletVersion: 'v1.32.0-sim',
          kubeProxyVersion: 'v1.32.0-sim',
          containerRuntimeVersion: 'sim://1.0',
          operatingSystem: 'linux',
          architecture: 'amd64',
          osImage: 'roam simulated node',
          kernelVersion: '6.0.0-sim',
          machineID: name,
          systemUUID: name,
          bootID: name,
        },
        phase: 'Running',
      },
    });
  }

  deleteNode(name: string): void {
    this.store.delete('nodes', undefined, name);
  }

  /** Marks a node Ready or NotReady, as a failing kubelet would. */
  setReady(name: string, ready: boolean): void {
    this.store.mutate<Node>('nodes', undefined, name, (n) => {
      const status = (n.status ??= {});
      const spec = (n.spec ??= {});
      status.conditions = setCondition(
        status.conditions,
        ready
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status (simulated)',
            }
          : {
              type: 'Ready',
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
            },
      );
      const taints = (spec.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/unreachable');
      if (!ready)
        taints.push({
          key: 'node.kubernetes.io/unreachable',
          effect: 'NoSchedule',
          timeAdded: nowIso(),
        });
      if (taints.length) spec.taints = taints;
      else delete spec.taints;
    });
  }

  cordon(name: string, unschedulable = true): void {
    this.store.mutate<Node>('nodes', undefined, name, (n) => {
      const spec = (n.spec ??= {});
      if (unschedulable) spec.unschedulable = true;
      else delete spec.unschedulable;
    });
  }

  private onNodeDeleted(node: KubeObject): void {
    const name = node.metadata.name ?? '';
    const message = `Node ${name} which was running the pod was deleted (simulated)`;
    setImmediate(() => {
      for (const pod of [...this.store.list<Pod>('pods')]) {
        if (
          pod.spec?.nodeName !== name ||
          pod.status?.phase === 'Succeeded' ||
          pod.status?.phase === 'Failed'
        )
          continue;
        this.store.mutate<Pod>('pods', pod.metadata.namespace, pod.metadata.name ?? '', (p) => {
          const now = nowIso();
          const status = (p.status ??= {});
          status.phase = 'Failed';
          status.reason = 'NodeLost';
          status.message = message;
          status.conditions = setCondition(status.conditions, {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'DeletionByPodGC',
            message,
          });
          status.conditions = setCondition(status.conditions, {
            type: 'Ready',
            status: 'False',
            reason: 'PodFailed',
          });
          status.containerStatuses = (status.containerStatuses ?? []).map((c) => ({
            ...c,
            ready: false,
            started: false,
            state: {
              terminated: {
                exitCode: 137,
                reason: 'Error',
                message,
                startedAt: c.state?.running?.startedAt ?? now,
                finishedAt: now,
              },
            },
          }));
        });
      }
    });
    const poolName = node.metadata.labels?.['cloud.google.com/gke-nodepool'];
    const spec = poolName ? this.pools.get(poolName) : undefined;
    if (spec?.recreateAfterSeconds !== undefined) {
      this.cancels.push(
        this.clock.after(spec.recreateAfterSeconds, () => {
          if (this.store.get('nodes', undefined, name)) return;
          const created = this.createNode(spec, name);
          this.events.record(
            { ...created, metadata: { ...created.metadata, namespace: 'default' } },
            'Normal',
            'RegisteredNode',
            `Node ${name} event: Registered Node ${name} in Controller (recreated by pool ${spec.name})`,
          );
        }),
      );
    }
  }

  close(): void {
    for (const c of this.cancels) c();
  }
}
