/**
 * `pnpm bench:admission`: the pure admission decision, `decide()`, alone (no database, no
 * NATS): one cycle over a synthetic snapshot of many tenants, mixed CPU/memory/GPU jobs and a
 * cluster of CPU and GPU nodes half full of other work. Prints, per scenario, the cycle time
 * (median CPU time of BENCH_ROUNDS runs after a warm-up, with the wall time beside it), the
 * placements per second of CPU it implies, and the cost per pending job, for a growing backlog and a growing cluster. Asserts nothing.
 *
 * The mixed scenarios add what issue 18 asks of the scheduler: several flavors (L4 and H100 GPU
 * nodes, spot and on-demand, jobs naming a GPU type and a capacity) and gangs (one job in ten
 * has 2–16 pods: indexed CPU jobs, a driver with 8-GPU workers, 1-GPU workers); there a
 * placement is a pod placed, so placements/s counts pods and the jobs admitted are beside it.
 *
 * The preempt scenarios time a whole cycle's pure part, `decide()` then `preempt()`, on the
 * mixed snapshot where every tenant also has 200 running jobs of lower priority bound to the
 * nodes (docs/scheduling.md#borrowing): jobs waiting for capacity with priority 10 may make
 * room on nodes; the default bound on node searches per cycle, and no bound, side by side.
 *
 * BENCH_ROUNDS (default 7), BENCH_SEED (default 1), BENCH_REFERENCE=1 (time the implementation
 * decide() replaced). Profile one scenario with
 * `node --cpu-prof bench/run.mjs bench/admission.ts` and BENCH_ONLY=<pending>x<nodes> (or
 * mixed-<pending>x<nodes>).
 */
import {
  decide,
  preempt,
  type AdmissionDecision,
  type CapacityType,
  type NodeState,
  type PendingJob,
  type PodSet,
  type RunningJob,
  type Snapshot,
} from '@roam/domain';

// The implementation decide() replaced, kept as its test oracle: BENCH_REFERENCE=1 times it
// instead, for a before/after on the same host under the same load.
import { decideReference } from '../libs/domain/src/scheduling/admission-reference.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const ONLY = process.env.BENCH_ONLY;
const REFERENCE = process.env.BENCH_REFERENCE === '1';
const run = REFERENCE ? decideReference : decide;

const GiB = 2 ** 30;
const NOW = new Date('2030-01-01T12:00:00Z');

/** A small seeded generator (mulberry32), so every run decides on the same snapshot. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, items: readonly T[]): T =>
  items[Math.floor(rnd() * items.length)] as T;

/** Job shapes as sweeps submit them: many identical small jobs, fewer large and GPU ones. */
const SHAPES = [
  { cpuMillis: 500, memoryBytes: 1 * GiB, gpu: 0 },
  { cpuMillis: 1000, memoryBytes: 2 * GiB, gpu: 0 },
  { cpuMillis: 1000, memoryBytes: 2 * GiB, gpu: 0 },
  { cpuMillis: 2000, memoryBytes: 4 * GiB, gpu: 0 },
  { cpuMillis: 2000, memoryBytes: 8 * GiB, gpu: 0 },
  { cpuMillis: 4000, memoryBytes: 16 * GiB, gpu: 0 },
  { cpuMillis: 8000, memoryBytes: 32 * GiB, gpu: 0 },
  { cpuMillis: 4000, memoryBytes: 32 * GiB, gpu: 1 },
  { cpuMillis: 8000, memoryBytes: 64 * GiB, gpu: 2 },
  { cpuMillis: 32000, memoryBytes: 256 * GiB, gpu: 8 },
] as const;

/**
 * `tenants` tenants with weights 1–3; one in four has a tight CPU quota and one in five a
 * concurrency limit, so some queues stop early. Each tenant submits sweeps of one shape.
 */
function buildSnapshot(pendingCount: number, nodeCount: number, tenantCount = 20): Snapshot {
  const rnd = random(SEED + pendingCount * 7 + nodeCount);
  const tenants = Array.from({ length: tenantCount }, (_, i) => ({
    id: `tenant-${String(i).padStart(2, '0')}`,
    weight: 1 + (i % 3),
    limits: {
      cpuMillis: i % 4 === 0 ? 200_000 : 100_000_000,
      memoryBytes: 1_000_000 * GiB,
      gpu: i % 4 === 0 ? 16 : 10_000,
      maxConcurrentJobs: i % 5 === 0 ? 300 : 1_000_000,
    },
    running: { count: 0, resources: { cpuMillis: 0, memoryBytes: 0, gpu: 0 } },
  }));
  const pending: PendingJob[] = [];
  for (let i = 0; pending.length < pendingCount; i++) {
    const tenant = pick(rnd, tenants);
    const shape = pick(rnd, SHAPES);
    const sweep = 1 + Math.floor(rnd() * 200);
    // Waiting from a few seconds to nine minutes: under the starvation threshold, except
    // a handful of old big jobs.
    const waitedMs = shape.gpu >= 8 && rnd() < 0.05 ? 30 * 60_000 : Math.floor(rnd() * 540_000);
    for (let j = 0; j < sweep && pending.length < pendingCount; j++) {
      pending.push({
        id: `job-${String(pending.length).padStart(6, '0')}`,
        tenantId: tenant.id,
        priority: rnd() < 0.1 ? 10 : 0,
        createdAt: new Date(NOW.getTime() - waitedMs + j),
        resources: { ...shape },
        queue: 'default',
        offloadPreference: shape.gpu > 0 && rnd() < 0.3 ? 'allowed' : 'never',
      });
    }
  }
  const nodes: NodeState[] = Array.from({ length: nodeCount }, (_, i) => {
    const gpuNode = i % 5 === 0;
    const allocatable = gpuNode
      ? { cpuMillis: 96_000, memoryBytes: 680 * GiB, gpu: 8 }
      : { cpuMillis: 32_000, memoryBytes: 128 * GiB, gpu: 0 };
    // Half to nine tenths full of other work.
    const filled = 0.5 + rnd() * 0.4;
    const usedGpu = gpuNode ? Math.floor(rnd() * 9) : 0;
    const labels: Record<string, string> = gpuNode
      ? { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }
      : {};
    return {
      name: `node-${String(i).padStart(5, '0')}`,
      pool: gpuNode ? 'gpu' : 'cpu',
      allocatable,
      requested: {
        cpuMillis: Math.floor(allocatable.cpuMillis * filled),
        memoryBytes: Math.floor(allocatable.memoryBytes * filled),
        gpu: usedGpu,
      },
      pods: { allocatable: 110, used: Math.floor(rnd() * 60) },
      schedulable: i % 97 !== 0,
      ready: true,
      labels,
      taints: gpuNode ? [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] : [],
    };
  });
  return { tenants, pending, nodes, now: NOW };
}

/** GKE's labels, as the nodes of a flavored pool carry them. */
const ACCELERATOR = 'cloud.google.com/gke-accelerator';
const SPOT = 'cloud.google.com/gke-spot';
const GPU_TYPES = ['nvidia-l4', 'nvidia-h100-80gb'] as const;

/** Gangs as users submit them: an indexed CPU job, a driver and GPU workers, 1-GPU workers. */
function gangPods(rnd: () => number): PodSet[] {
  const count = 2 + Math.floor(rnd() * 15); // 2–16 pods
  const kind = rnd();
  if (kind < 0.4) {
    return [{ name: 'main', count, resources: { cpuMillis: 2000, memoryBytes: 4 * GiB, gpu: 0 } }];
  }
  if (kind < 0.7) {
    return [
      { name: 'driver', count: 1, resources: { cpuMillis: 2000, memoryBytes: 8 * GiB, gpu: 0 } },
      {
        name: 'workers',
        count: count - 1,
        resources: { cpuMillis: 32_000, memoryBytes: 256 * GiB, gpu: 8 },
      },
    ];
  }
  return [
    { name: 'workers', count, resources: { cpuMillis: 4000, memoryBytes: 32 * GiB, gpu: 1 } },
  ];
}

/**
 * The mixed scenario: the tenants of `buildSnapshot`, some with a per-type GPU quota; jobs in
 * sweeps of one shape, one sweep in ten a gang (`gangPods`), GPU jobs naming a type and, one in
 * two, spot or on-demand capacity. Nodes: 60% 32-CPU nodes, 25% 8-L4 and 15% 8-H100 nodes,
 * a third of each on spot, 50–90% full of other work, 1% cordoned.
 */
function buildMixedSnapshot(pendingCount: number, nodeCount: number, tenantCount = 20): Snapshot {
  const base = buildSnapshot(0, 0, tenantCount);
  const rnd = random(SEED + pendingCount * 13 + nodeCount);
  const tenants = base.tenants.map((t, i) =>
    i % 3 === 0 ? { ...t, gpuQuotaByType: { 'nvidia-h100-80gb': 64 } } : t,
  );
  const pending: PendingJob[] = [];
  while (pending.length < pendingCount) {
    const tenant = pick(rnd, tenants);
    const podSets = rnd() < 0.1 ? gangPods(rnd) : undefined;
    const shape = pick(rnd, SHAPES);
    const usesGpu = podSets ? podSets.some((p) => p.resources.gpu > 0) : shape.gpu > 0;
    const gpuType = usesGpu ? pick(rnd, GPU_TYPES) : undefined;
    const capacity: CapacityType = rnd() < 0.5 ? 'any' : rnd() < 0.5 ? 'spot' : 'on-demand';
    const sweep = 1 + Math.floor(rnd() * (podSets ? 20 : 200));
    const waitedMs =
      (podSets || shape.gpu >= 8) && rnd() < 0.05 ? 30 * 60_000 : Math.floor(rnd() * 540_000);
    for (let j = 0; j < sweep && pending.length < pendingCount; j++) {
      const job: PendingJob = {
        id: `job-${String(pending.length).padStart(6, '0')}`,
        tenantId: tenant.id,
        priority: rnd() < 0.1 ? 10 : 0,
        createdAt: new Date(NOW.getTime() - waitedMs + j),
        resources: { ...shape },
        queue: 'default',
        offloadPreference: usesGpu && rnd() < 0.3 ? 'allowed' : 'never',
        capacity,
      };
      if (gpuType) job.gpuType = gpuType;
      if (podSets) job.podSets = podSets;
      pending.push(job);
    }
  }
  const nodes: NodeState[] = Array.from({ length: nodeCount }, (_, i) => {
    const slot = i % 20;
    const type = slot < 12 ? undefined : slot < 17 ? 'nvidia-l4' : 'nvidia-h100-80gb';
    const allocatable =
      type === undefined
        ? { cpuMillis: 32_000, memoryBytes: 128 * GiB, gpu: 0 }
        : type === 'nvidia-l4'
          ? { cpuMillis: 96_000, memoryBytes: 384 * GiB, gpu: 8 }
          : { cpuMillis: 208_000, memoryBytes: 1872 * GiB, gpu: 8 };
    const filled = 0.5 + rnd() * 0.4;
    const labels: Record<string, string> = {};
    if (type) labels[ACCELERATOR] = type;
    if (i % 3 === 0) labels[SPOT] = 'true';
    return {
      name: `node-${String(i).padStart(5, '0')}`,
      pool: type ?? 'cpu',
      allocatable,
      requested: {
        cpuMillis: Math.floor(allocatable.cpuMillis * filled),
        memoryBytes: Math.floor(allocatable.memoryBytes * filled),
        gpu: type ? Math.floor(rnd() * 9) : 0,
      },
      pods: { allocatable: 110, used: Math.floor(rnd() * 60) },
      schedulable: i % 97 !== 0,
      ready: true,
      labels,
      taints: type ? [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] : [],
    };
  });
  return { tenants, pending, nodes, now: NOW };
}

/** Pods placed: a gang's every pod, one for a single job. */
const podsPlaced = (decision: AdmissionDecision): number =>
  decision.admitted.reduce(
    (n, a) => n + (a.placements ? a.placements.reduce((m, p) => m + p.count, 0) : 1),
    0,
  );

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

function measure(snapshot: Snapshot, label: string): void {
  const pendingCount = snapshot.pending.length;
  const nodeCount = snapshot.nodes.length;
  for (let w = 0; w < 3; w++) run(snapshot); // warm-up: JIT and shapes
  const wall: number[] = [];
  const cpu: number[] = [];
  let admitted = 0;
  let pods = 0;
  let waiting = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const decision = run(snapshot);
    wall.push(performance.now() - started);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000);
    admitted = decision.admitted.length;
    pods = podsPlaced(decision);
    waiting = decision.waiting.length;
  }
  // CPU time is what the cycle costs; wall time also counts waiting for a core on a busy host.
  const ms = median(cpu);
  console.log(
    [
      label.padEnd(6),
      `${String(pendingCount).padStart(6)} pending`,
      `${String(nodeCount).padStart(5)} nodes`,
      `${String(admitted).padStart(6)} admitted`,
      `${String(pods).padStart(6)} pods`,
      `${String(waiting).padStart(6)} waiting`,
      `${ms.toFixed(1).padStart(7)} CPU ms/cycle`,
      `(wall ${median(wall).toFixed(1)}, min ${Math.min(...wall).toFixed(1)})`,
      `${Math.round(pods / (ms / 1000))
        .toLocaleString('en')
        .padStart(9)} placements/s`,
      `${((ms * 1000) / pendingCount).toFixed(2).padStart(6)} µs per pending job`,
    ].join('  '),
  );
}

/**
 * The mixed snapshot with `perTenant` running jobs per tenant, priority -100 to 0, each one pod
 * on a random node of its kind (CPU shapes on CPU nodes, GPU shapes on GPU nodes of their type).
 */
function withRunningJobs(snapshot: Snapshot, perTenant: number): Snapshot {
  const rnd = random(SEED + 99);
  const cpuNodes = snapshot.nodes.filter((n) => n.allocatable.gpu === 0);
  const gpuNodes = snapshot.nodes.filter((n) => n.allocatable.gpu > 0);
  const tenants = snapshot.tenants.map((t, ti) => {
    const runningJobs: RunningJob[] = Array.from({ length: perTenant }, (_, j) => {
      const shape = pick(rnd, SHAPES);
      const node = pick(rnd, shape.gpu > 0 ? gpuNodes : cpuNodes);
      const gpuType = node.labels[ACCELERATOR];
      return {
        id: `run-${ti}-${j}`,
        priority: -Math.floor(rnd() * 101),
        admittedAt: new Date(NOW.getTime() - Math.floor(rnd() * 3_600_000)),
        resources: { ...shape },
        ...(gpuType ? { gpuType } : {}),
        pods: [{ node: node.name, resources: { ...shape } }],
      };
    });
    return { ...t, runningJobs };
  });
  return { ...snapshot, tenants };
}

function measurePreempt(snapshot: Snapshot, label: string, maxNodeSearches?: number): void {
  const cycle = () => {
    const cpuBefore = process.cpuUsage();
    const decision = decide(snapshot);
    const mid = process.cpuUsage(cpuBefore);
    const preemptions = preempt(
      snapshot,
      decision,
      maxNodeSearches === undefined ? {} : { maxNodeSearches },
    );
    const all = process.cpuUsage(cpuBefore);
    return {
      decideMs: (mid.user + mid.system) / 1000,
      preemptMs: (all.user + all.system - mid.user - mid.system) / 1000,
      pods: podsPlaced(decision),
      preempted: preemptions.length,
    };
  };
  for (let w = 0; w < 3; w++) cycle();
  const rounds = Array.from({ length: ROUNDS }, cycle);
  const decideMs = median(rounds.map((r) => r.decideMs));
  const preemptMs = median(rounds.map((r) => r.preemptMs));
  const { pods, preempted } = rounds[0]!;
  console.log(
    [
      label.padEnd(16),
      `${String(snapshot.pending.length).padStart(6)} pending`,
      `${String(snapshot.nodes.length).padStart(5)} nodes`,
      `${String(preempted).padStart(4)} preempted`,
      `decide ${decideMs.toFixed(1)} + preempt ${preemptMs.toFixed(1)} CPU ms/cycle`,
      `${Math.round(pods / ((decideMs + preemptMs) / 1000))
        .toLocaleString('en')
        .padStart(9)} placements/s`,
    ].join('  '),
  );
}

const scenarios: [number, number][] = [
  [10_000, 1_000],
  [1_000, 1_000],
  [50_000, 1_000],
  [10_000, 100],
  [10_000, 5_000],
];
/** Gangs and flavors; the reference implementation knows neither, so it skips these. */
const mixedScenarios: [number, number][] = [
  [10_000, 1_000],
  [50_000, 1_000],
];
console.log(
  `${REFERENCE ? 'reference implementation' : 'decide()'}: 20 tenants, ${ROUNDS} rounds per scenario, median; seed ${SEED}`,
);
for (const [pendingCount, nodeCount] of scenarios) {
  if (ONLY && ONLY !== `${pendingCount}x${nodeCount}`) continue;
  measure(buildSnapshot(pendingCount, nodeCount), 'single');
}
for (const [pendingCount, nodeCount] of REFERENCE ? [] : mixedScenarios) {
  if (ONLY && ONLY !== `mixed-${pendingCount}x${nodeCount}`) continue;
  measure(buildMixedSnapshot(pendingCount, nodeCount), 'mixed');
}
for (const [pendingCount, nodeCount] of REFERENCE ? [] : mixedScenarios) {
  if (ONLY && ONLY !== `preempt-${pendingCount}x${nodeCount}`) continue;
  const snapshot = withRunningJobs(buildMixedSnapshot(pendingCount, nodeCount), 200);
  measurePreempt(snapshot, 'preempt (16)');
  measurePreempt(snapshot, 'preempt (no cap)', Infinity);
}
