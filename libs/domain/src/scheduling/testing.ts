/*
 * Fluent builders for scheduling snapshots (Kueue's MakeWorkload(...).Obj() style), for this
 * folder's specs and for the scheduler's own tests. Not exported from the package index: they
 * are test helpers, with defaults chosen to stay out of the way (large quotas, 8-CPU nodes).
 */
import { cpuMillis, memoryBytes } from '../quantity.js';
import { GKE_LABELS } from '../failover/preflight.js';
import { GKE_ACCELERATOR_LABEL, GKE_SPOT_LABEL } from './nodes.js';
import { GKE_TPU_ACCELERATOR_LABEL, GKE_TPU_TOPOLOGY_LABEL } from './tpu.js';
import type { Resources } from './resources.js';
import type {
  CapacityType,
  NodeState,
  OffloadPreference,
  PendingJob,
  Snapshot,
  TaintEffect,
  TenantState,
  Toleration,
} from './snapshot.js';

/** The epoch of every built snapshot; times in builders are minutes after it. */
export const T0 = new Date('2030-01-01T00:00:00Z');

export const minutes = (n: number): Date => new Date(T0.getTime() + n * 60_000);

export interface Quantities {
  cpu?: string | number;
  memory?: string | number;
  gpu?: number;
}

export function resources(q: Quantities): Resources {
  return {
    cpuMillis: q.cpu === undefined ? 0 : cpuMillis(q.cpu),
    memoryBytes: q.memory === undefined ? 0 : memoryBytes(q.memory),
    gpu: q.gpu ?? 0,
  };
}

export class TenantBuilder {
  private readonly state: TenantState;

  constructor(id: string) {
    this.state = {
      id,
      limits: { ...resources({ cpu: 1000, memory: '1Ti', gpu: 100 }), maxConcurrentJobs: 1000 },
      weight: 1,
      running: { count: 0, resources: resources({}) },
    };
  }

  /** Sets the given quota dimensions; the others keep their (large) defaults. */
  quota(q: Quantities): this {
    const r = resources(q);
    if (q.cpu !== undefined) this.state.limits.cpuMillis = r.cpuMillis;
    if (q.memory !== undefined) this.state.limits.memoryBytes = r.memoryBytes;
    if (q.gpu !== undefined) this.state.limits.gpu = r.gpu;
    return this;
  }

  concurrency(n: number): this {
    this.state.limits.maxConcurrentJobs = n;
    return this;
  }

  weight(w: number): this {
    this.state.weight = w;
    return this;
  }

  running(count: number, q: Quantities = {}): this {
    this.state.running = { ...this.state.running, count, resources: resources(q) };
    return this;
  }

  /** The tenant's quota for one accelerator type. */
  gpuQuota(type: string, n: number): this {
    this.state.gpuQuotaByType = { ...this.state.gpuQuotaByType, [type]: n };
    return this;
  }

  /** GPUs of a type its running jobs hold (part of what `running` counts). */
  runningGpus(type: string, n: number): this {
    this.state.running = {
      ...this.state.running,
      gpuByType: { ...this.state.running.gpuByType, [type]: n },
    };
    return this;
  }

  /** The tenant's TPU quota in chips: all types together, or with `type` one TPU type's. */
  tpuQuota(n: number, type?: string): this {
    if (type === undefined) this.state.tpuQuota = n;
    else this.state.tpuQuotaByType = { ...this.state.tpuQuotaByType, [type]: n };
    return this;
  }

  /** TPU chips of a type its running jobs hold (added to what `running` counts). */
  runningTpus(type: string, n: number): this {
    const running = this.state.running;
    this.state.running = {
      ...running,
      resources: { ...running.resources, tpu: (running.resources.tpu ?? 0) + n },
      tpuByType: { ...running.tpuByType, [type]: (running.tpuByType?.[type] ?? 0) + n },
    };
    return this;
  }

  /** Puts the tenant in a cohort: its quota becomes a guarantee, with this borrowing limit. */
  cohort(name: string, borrowing?: Quantities): this {
    this.state.cohort = name;
    if (borrowing) {
      const r = resources(borrowing);
      const limit: Partial<Resources> = {};
      if (borrowing.cpu !== undefined) limit.cpuMillis = r.cpuMillis;
      if (borrowing.memory !== undefined) limit.memoryBytes = r.memoryBytes;
      if (borrowing.gpu !== undefined) limit.gpu = r.gpu;
      this.state.borrowingLimit = limit;
    }
    return this;
  }

  /**
   * One admitted or running job, admitted `at` minutes after T0; adds it to `running` too, so
   * `running(…)` and these never disagree when only these are used. `on`: its pods are bound,
   * one per node named, each with an equal part of `q` (the nodes' `requested` is the test's
   * to set). `gpuType`: its GPUs are of that type (added to `running.gpuByType`).
   */
  runningJob(
    id: string,
    q: Quantities,
    options: { priority?: number; at?: number; on?: string | string[]; gpuType?: string } = {},
  ): this {
    const r = resources(q);
    const jobs = [...(this.state.runningJobs ?? [])];
    const on = options.on === undefined ? [] : [options.on].flat();
    const pod = {
      cpuMillis: r.cpuMillis / Math.max(1, on.length),
      memoryBytes: r.memoryBytes / Math.max(1, on.length),
      gpu: r.gpu / Math.max(1, on.length),
    };
    jobs.push({
      id,
      priority: options.priority ?? 0,
      admittedAt: minutes(options.at ?? 0),
      resources: r,
      ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
      ...(on.length === 0 ? {} : { pods: on.map((node) => ({ node, resources: { ...pod } })) }),
    });
    this.state.runningJobs = jobs;
    const held = this.state.running.resources;
    const byType = this.state.running.gpuByType;
    this.state.running = {
      ...this.state.running,
      ...(options.gpuType === undefined
        ? {}
        : {
            gpuByType: { ...byType, [options.gpuType]: (byType?.[options.gpuType] ?? 0) + r.gpu },
          }),
      count: this.state.running.count + 1,
      resources: {
        cpuMillis: held.cpuMillis + r.cpuMillis,
        memoryBytes: held.memoryBytes + r.memoryBytes,
        gpu: held.gpu + r.gpu,
      },
    };
    return this;
  }

  obj(): TenantState {
    return structuredClone(this.state);
  }
}

export class JobBuilder {
  private readonly job: PendingJob;

  constructor(id: string) {
    this.job = {
      id,
      tenantId: 'a',
      priority: 0,
      createdAt: T0,
      resources: resources({ cpu: 1, memory: '1Gi' }),
      queue: 'default',
      offloadPreference: 'never',
    };
  }

  of(tenantId: string): this {
    this.job.tenantId = tenantId;
    return this;
  }

  cpu(q: string | number): this {
    this.job.resources.cpuMillis = cpuMillis(q);
    return this;
  }

  memory(q: string | number): this {
    this.job.resources.memoryBytes = memoryBytes(q);
    return this;
  }

  gpu(n: number): this {
    this.job.resources.gpu = n;
    return this;
  }

  priority(p: number): this {
    this.job.priority = p;
    return this;
  }

  /** Submitted `n` minutes after T0. */
  at(n: number): this {
    this.job.createdAt = minutes(n);
    return this;
  }

  offload(preference: OffloadPreference): this {
    this.job.offloadPreference = preference;
    return this;
  }

  selector(labels: Record<string, string>): this {
    this.job.nodeSelector = labels;
    return this;
  }

  gpuType(type: string): this {
    this.job.gpuType = type;
    return this;
  }

  capacity(capacity: CapacityType): this {
    this.job.capacity = capacity;
    return this;
  }

  /** Adds a pod set: `count` pods each asking for `q` (a gang once it has one). */
  pods(name: string, count: number, q: Quantities): this {
    this.job.podSets = [...(this.job.podSets ?? []), { name, count, resources: resources(q) }];
    return this;
  }

  /** The last pod set is `n` TPU slices, each on a node pool of its own (`PodSet.slices`). */
  slices(n: number): this {
    const sets = [...(this.job.podSets ?? [])];
    const last = sets.pop();
    if (!last) throw new Error('slices() after pods()');
    this.job.podSets = [...sets, { ...last, slices: n }];
    return this;
  }

  /** A TPU slice: `tpu('tpu-v5-lite-podslice', '2x4')`. */
  tpu(type: string, topology: string): this {
    this.job.tpu = { type, topology };
    return this;
  }

  tolerate(toleration: Toleration): this {
    this.job.tolerations = [...(this.job.tolerations ?? []), toleration];
    return this;
  }

  obj(): PendingJob {
    return { ...structuredClone(this.job), createdAt: new Date(this.job.createdAt) };
  }
}

export class NodeBuilder {
  private readonly node: NodeState;

  constructor(name: string) {
    this.node = {
      name,
      allocatable: resources({ cpu: 8, memory: '32Gi' }),
      requested: resources({}),
      schedulable: true,
      ready: true,
      labels: {},
      taints: [],
    };
  }

  allocatable(q: Quantities): this {
    this.node.allocatable = resources({ cpu: 8, memory: '32Gi', ...q });
    return this;
  }

  requested(q: Quantities): this {
    this.node.requested = resources(q);
    return this;
  }

  /** `allocatable.pods`, and the pods already bound to the node. */
  pods(allocatable: number, used = 0): this {
    this.node.pods = { allocatable, used };
    return this;
  }

  cordoned(): this {
    this.node.schedulable = false;
    return this;
  }

  notReady(): this {
    this.node.ready = false;
    return this;
  }

  pool(pool: string): this {
    this.node.pool = pool;
    return this;
  }

  /** A GKE GPU node: `count` GPUs of `type`, the accelerator label and the GPU taint. */
  accelerator(type: string, count = 8): this {
    return this.allocatable({ cpu: 96, memory: '680Gi', gpu: count })
      .label(GKE_ACCELERATOR_LABEL, type)
      .taint('nvidia.com/gpu');
  }

  /**
   * A host of a GKE TPU slice: `chips` TPU chips, the slice's type and topology labels, the
   * accelerator-count label and the TPU taint.
   */
  tpuHost(type: string, topology: string, chips: number): this {
    this.node.allocatable = { ...resources({ cpu: 224, memory: '192Gi' }), tpu: chips };
    return this.label(GKE_TPU_ACCELERATOR_LABEL, type)
      .label(GKE_TPU_TOPOLOGY_LABEL, topology)
      .label(GKE_LABELS.acceleratorCount, String(chips))
      .taint('google.com/tpu');
  }

  /** TPU chips already taken on the node. */
  tpuInUse(chips: number): this {
    this.node.requested = { ...this.node.requested, tpu: chips };
    return this;
  }

  /** A GKE spot node. */
  spot(): this {
    return this.label(GKE_SPOT_LABEL, 'true');
  }

  label(key: string, value: string): this {
    this.node.labels = { ...this.node.labels, [key]: value };
    return this;
  }

  taint(key: string, effect: TaintEffect = 'NoSchedule', value?: string): this {
    this.node.taints = [
      ...this.node.taints,
      value === undefined ? { key, effect } : { key, value, effect },
    ];
    return this;
  }

  obj(): NodeState {
    return structuredClone(this.node);
  }
}

type Buildable<T> = T | { obj(): T };
const built = <T>(x: Buildable<T>): T =>
  x instanceof TenantBuilder ||
  x instanceof JobBuilder ||
  x instanceof NodeBuilder ||
  x instanceof SnapshotBuilder
    ? (x.obj() as T)
    : (x as T);

export class SnapshotBuilder {
  private tenantList: TenantState[] = [];
  private jobList: PendingJob[] = [];
  private nodeList: NodeState[] = [];
  private time = T0;

  tenants(...tenants: Buildable<TenantState>[]): this {
    this.tenantList.push(...tenants.map(built));
    return this;
  }

  jobs(...jobs: Buildable<PendingJob>[]): this {
    this.jobList.push(...jobs.map(built));
    return this;
  }

  nodes(...nodes: Buildable<NodeState>[]): this {
    this.nodeList.push(...nodes.map(built));
    return this;
  }

  /** `now`, in minutes after T0. */
  at(n: number): this {
    this.time = minutes(n);
    return this;
  }

  obj(): Snapshot {
    return {
      tenants: this.tenantList,
      pending: this.jobList,
      nodes: this.nodeList,
      now: this.time,
    };
  }
}

export const tenant = (id: string): TenantBuilder => new TenantBuilder(id);
export const job = (id: string): JobBuilder => new JobBuilder(id);
export const node = (name: string): NodeBuilder => new NodeBuilder(name);
export const snapshot = (): SnapshotBuilder => new SnapshotBuilder();
