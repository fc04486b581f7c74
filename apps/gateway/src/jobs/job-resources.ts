import {
  gpuCount,
  gpuTypeOf,
  type JobSpec,
  MAX_PODS_PER_JOB,
  multiPodProblems,
  podSetsOf,
  tpuTopologyChips,
} from '@roam/contracts';
import type { OffloadPreference } from '@roam/domain';
import {
  cpuMillis,
  memoryBytes,
  neverFits,
  type NeverFitsReason,
  type NodeState,
  type PlacementConstraints,
  podOf,
  type ResourceName,
  type Resources,
  sliceLayout,
  slicesNeverFit,
  type TenantLimits,
  type TenantState,
  tpuQuotaNeverFits,
  withTpuRequest,
} from '@roam/domain';
import type { StoredPodSet } from '@roam/jobs';
import { type FieldError, ProblemError, problemTypes } from '@roam/runtime';

export const unschedulableProblem = 'https://roam.dev/problems/unschedulable';
export const invalidMultiPodProblem = 'https://roam.dev/problems/invalid-multi-pod-job';

/** One pod's requests in canonical units, or the field errors that stop them (e.g. "1.5.2"). */
function podRequestsOf(
  resources: JobSpec['resources'],
  path: string,
): { resources: Resources } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  let cpu = 0;
  let memory = 0;
  try {
    cpu = cpuMillis(resources.cpu);
  } catch (error) {
    errors.push({ path: `${path}.cpu`, message: (error as Error).message });
  }
  try {
    memory = memoryBytes(resources.memory);
  } catch (error) {
    errors.push({ path: `${path}.memory`, message: (error as Error).message });
  }
  if (errors.length > 0) return { errors };
  return { resources: { cpuMillis: cpu, memoryBytes: memory, gpu: gpuCount(resources) } };
}

/** What a job asks for: the whole gang's requests, and for a multi-pod job its pod sets. */
export interface JobRequests {
  /** Every pod's requests summed (one pod's for a single-pod job): what quota counts. */
  resources: Resources;
  podSets?: StoredPodSet[];
}

/**
 * The spec's requests in canonical units, or the field errors that stop it (e.g. "1.5.2"). A
 * multi-pod job's requests are its pod sets', summed over every pod.
 */
export function requestsOf(spec: JobSpec): JobRequests | { errors: FieldError[] } {
  const sets = podSetsOf(spec);
  if (!sets) return podRequestsOf(spec.resources, 'resources');
  const errors: FieldError[] = [];
  const podSets: StoredPodSet[] = [];
  sets.forEach((set, i) => {
    const path = spec.replicated_jobs?.[i]?.resources
      ? `replicated_jobs.${i}.resources`
      : 'resources';
    const one = podRequestsOf(set.resources, path);
    if ('errors' in one) errors.push(...one.errors);
    else podSets.push({ name: set.name, count: set.count, ...one.resources });
  });
  if (errors.length > 0) return { errors };
  const total = (r: ResourceName) => podSets.reduce((n, set) => n + set[r] * set.count, 0);
  return {
    resources: {
      cpuMillis: total('cpuMillis'),
      memoryBytes: total('memoryBytes'),
      gpu: total('gpu'),
    },
    podSets,
  };
}

/** 400 for one spec's resources that are not quantities. */
export function requestsOrThrow(spec: JobSpec): JobRequests {
  const result = requestsOf(spec);
  if ('resources' in result) return result;
  const first = result.errors[0]!;
  throw new ProblemError(
    400,
    problemTypes.validation,
    'Request validation failed',
    `body: ${first.path}: ${first.message}`,
    { errors: result.errors },
  );
}

/** 422 `invalid-multi-pod-job` listing `problems` (the first in the detail); nothing if none. */
function refuseMultiPod(problems: readonly { path: string; message: string }[]): void {
  if (problems.length === 0) return;
  const first = problems[0]!;
  throw new ProblemError(
    422,
    invalidMultiPodProblem,
    'Invalid multi-pod job',
    `${first.path}: ${first.message}`,
    { errors: problems },
  );
}

/**
 * 422 for a multi-pod spec whose fields contradict each other (replicated jobs with an indexed
 * Job's parallelism, duplicate names, too many pods), or for one where only single-pod jobs
 * may go (`where`: an array's elements, a batch).
 */
export function assertMultiPodCoherent(spec: JobSpec, singlePodOnly?: string): void {
  const problems = multiPodProblems(spec);
  if (singlePodOnly && podSetsOf(spec))
    problems.unshift({
      path: spec.replicated_jobs ? 'replicated_jobs' : 'parallelism',
      message: `${singlePodOnly} are single-pod jobs; submit a multi-pod job on its own`,
    });
  refuseMultiPod(problems);
}

/** How a job of several multi-host TPU slices lays out (`settleSlices`). */
export interface SliceSet {
  /** Slices: the replicated job's `replicas`. */
  slices: number;
  /** Hosts of one slice: pods of one child Job. */
  hosts: number;
  /** TPU chips of one host: what each pod asks for. */
  perHost: number;
}

/**
 * A job's requests once its slice is laid out on these nodes. A single-pod TPU job whose slice
 * spans several hosts is a gang of one pod per host (`slice` × hosts, each with the spec's CPU
 * and memory); a JobSet of several slices (`slices`, from `settleSlices`) is its replicated
 * job's pods, `slices` × hosts of them, each asking for one host's chips. The row then holds
 * every host's requests, which the tenant's usage sums once it is admitted. Anything else is
 * returned as it is.
 */
export function withSlicePods(
  spec: JobSpec,
  requests: JobRequests,
  nodes: readonly NodeState[],
  slices?: SliceSet,
): JobRequests {
  if (slices && requests.podSets)
    return {
      ...requests,
      podSets: requests.podSets.map((set) => ({
        ...set,
        tpu: slices.perHost,
        slices: slices.slices,
      })),
    };
  const tpu = spec.resources.tpu;
  if (!tpu || requests.podSets) return requests;
  const { hosts } = sliceLayout(tpu, nodes);
  if (hosts <= 1) return requests;
  const one = requests.resources;
  return {
    resources: {
      cpuMillis: one.cpuMillis * hosts,
      memoryBytes: one.memoryBytes * hosts,
      gpu: one.gpu * hosts,
    },
    podSets: [{ name: 'slice', count: hosts, ...one }],
  };
}

const sameSlice = (a: JobSpec['resources']['tpu'], b: JobSpec['resources']['tpu']) =>
  a !== undefined && b !== undefined && a.type === b.type && a.topology === b.topology;

/**
 * Several TPU slices in one job (docs/scheduling.md#flavors): a JobSet whose one replicated job
 * runs on the job's slice (`resources.tpu`), which spans several hosts on this cluster, is
 * `replicas` slices, each a child Job of one pod per host. Its `parallelism` is therefore the
 * slice's hosts: left out, it is set to them in the spec (which is stored so, and every count of
 * pods, completions and result slots follows); any other value, or `completions` other than it,
 * is a 422, as are an indexed Job on such a slice (its pods would be hosts of one slice, or
 * several slices, undecidably), several replicated jobs, a replicated job with a slice of its own
 * other than the job's, and more pods than a job may have. Returns the slices' layout, or
 * undefined when the job is not made of multi-host slices (single-host slices in any multi-pod
 * job work as before).
 */
export function settleSlices(spec: JobSpec, nodes: readonly NodeState[]): SliceSet | undefined {
  if (!podSetsOf(spec)) return undefined;
  const jobs = spec.replicated_jobs ?? [];
  const candidates = [
    { path: 'resources.tpu', tpu: spec.resources.tpu },
    ...jobs.map((rj, i) => ({
      path: `replicated_jobs.${i}.resources.tpu`,
      tpu: rj.resources?.tpu,
    })),
  ];
  const multiHost = candidates.flatMap(({ path, tpu }) => {
    if (!tpu) return [];
    const layout = sliceLayout(tpu, nodes);
    return layout.hosts > 1 ? [{ path, tpu, layout }] : [];
  });
  const first = multiHost[0];
  if (!first) return undefined;
  const { tpu, layout } = first;
  const spans = `a ${tpu.type} ${tpu.topology} slice spans ${layout.hosts} hosts`;
  if (!spec.replicated_jobs) {
    refuseMultiPod([
      {
        path: first.path,
        message: `${spans} and runs as one pod per host; leave out parallelism and completions, or for several slices use one replicated job with replicas = slices`,
      },
    ]);
    return undefined;
  }
  const problems: { path: string; message: string }[] = [];
  const jobTpu = spec.resources.tpu;
  if (!jobTpu)
    problems.push({
      path: first.path,
      message: `${spans}: name it in the job's resources.tpu (the job's slices are all of one type and topology)`,
    });
  if (jobs.length !== 1)
    problems.push({
      path: 'replicated_jobs',
      message: `${spans}: a job of multi-host slices has exactly one replicated job, whose replicas are its slices (it has ${jobs.length})`,
    });
  jobs.forEach((rj, i) => {
    if (rj.resources && !sameSlice(rj.resources.tpu, jobTpu))
      problems.push({
        path: `replicated_jobs.${i}.resources.tpu`,
        message: `must be the job's slice (${jobTpu ? `${jobTpu.type} ${jobTpu.topology}` : 'none'}) or its resources left out`,
      });
    for (const field of ['parallelism', 'completions'] as const) {
      const value = rj[field];
      if (value !== undefined && value !== layout.hosts)
        problems.push({
          path: `replicated_jobs.${i}.${field}`,
          message: `${spans} and each replica is one slice of one pod per host: leave ${field} out or set it to ${layout.hosts}`,
        });
    }
    if (rj.replicas * layout.hosts > MAX_PODS_PER_JOB)
      problems.push({
        path: `replicated_jobs.${i}.replicas`,
        message: `${rj.replicas} slices of ${layout.hosts} hosts are ${rj.replicas * layout.hosts} pods; a job may have at most ${MAX_PODS_PER_JOB}`,
      });
  });
  refuseMultiPod(problems);
  const rj = jobs[0]!;
  rj.parallelism = layout.hosts;
  return { slices: rj.replicas, hosts: layout.hosts, perHost: layout.perHost };
}

/** The flavor a spec asks for, as placement reads it: GPU type, TPU slice, kind of capacity. */
export function placementOf(spec: JobSpec): PlacementConstraints {
  const gpuType = gpuTypeOf(spec.resources);
  return {
    ...(gpuType !== undefined ? { gpuType } : {}),
    ...(spec.capacity !== undefined ? { capacity: spec.capacity } : {}),
    ...(spec.resources.tpu !== undefined ? { tpu: spec.resources.tpu } : {}),
  };
}

export const neverFitsView = (reasons: readonly NeverFitsReason[]) =>
  reasons.map((r) => ({ kind: r.kind, message: r.message }));

/** Node-size reasons do not apply to a job RunPod may take; quota and concurrency still do. */
const CLUSTER_ONLY = new Set<NeverFitsReason['kind']>(['node', 'noSingleNode', 'noMatchingNode']);

export function neverRuns(
  resources: Resources,
  limits: TenantLimits,
  nodes: readonly NodeState[],
  offload: OffloadPreference,
  constraints: PlacementConstraints = {},
  podSets?: readonly StoredPodSet[],
): NeverFitsReason[] {
  const reasons = podSets
    ? [
        // A gang's quota is its sum; each of its pods must fit some node on its own, with the
        // constraints admission gives that pod (`podOf`).
        ...neverFits(resources, limits, []),
        ...podSets.flatMap((set) =>
          neverFits(
            set,
            limits,
            nodes,
            podOf({ ...constraints, resources }, { resources: set }),
          ).filter((r) => CLUSTER_ONLY.has(r.kind)),
        ),
        // Each TPU slice takes a node pool of its own (docs/scheduling.md#flavors).
        ...podSets.flatMap((set) =>
          slicesNeverFit(podOf({ ...constraints, resources }, { resources: set }), set, nodes),
        ),
      ]
    : // A TPU job's pods each ask for one host's chips of its slice (tpu.ts).
      neverFits(
        withTpuRequest({ resources, tpu: constraints.tpu }, nodes).resources,
        limits,
        nodes,
        constraints,
      );
  return offload === 'never' ? reasons : reasons.filter((reason) => !CLUSTER_ONLY.has(reason.kind));
}

/**
 * The TPU chips a job holds once admitted: its slice's chips, once per pod of a multi-pod job
 * (each pod takes a whole single-host slice). The database derives the same number for the
 * tenant's usage (`jobs.tpu_chips`).
 */
export function tpuChipsOf(spec: JobSpec, podSets?: readonly StoredPodSet[]): number {
  const tpu = spec.resources.tpu;
  if (!tpu) return 0;
  // Several multi-host slices: each pod holds one host's chips.
  if (podSets?.some((set) => set.tpu !== undefined))
    return podSets.reduce((n, set) => n + set.count * (set.tpu ?? 0), 0);
  const pods = (podSetsOf(spec) ?? [{ count: 1 }]).reduce((n, set) => n + set.count, 0);
  return tpuTopologyChips(tpu.topology) * pods;
}

/** What one spec is stored as, and every reason it can never run (none: it may be submitted). */
export interface SubmitVerdict {
  /** The requests its row holds: a multi-host TPU slice's are its hosts' pods (`withSlicePods`). */
  requests: JobRequests;
  reasons: NeverFitsReason[];
}

/**
 * Every submit-time check of one spec against the nodes and its tenant's limits, in one place
 * for every submit path (a job, a batch's items, an array's element, a pipeline's steps), so
 * none stores a slice as one pod or accepts what can never run: an incoherent job of slices is
 * refused (422 thrown, `settleSlices`), the slices' hosts become the row's pods, and the TPU quota, the
 * quota and the nodes give the reasons it can never run (docs/scheduling.md#multi-pod). The
 * caller reads the nodes and limits once (a batch once for all its items) and decides
 * whether the reasons refuse one job or name a batch's item.
 */
export function submitVerdict(
  spec: JobSpec,
  /** The spec's requests, read once a JobSet of multi-host slices has its parallelism. */
  requestsOf: () => JobRequests,
  nodes: readonly NodeState[],
  limits: (TenantLimits & Partial<Pick<TenantState, 'tpuQuota' | 'tpuQuotaByType'>>) | undefined,
): SubmitVerdict {
  // A JobSet of multi-host TPU slices gets its parallelism (the slice's hosts) here.
  const slices = settleSlices(spec, nodes);
  const stored = withSlicePods(spec, requestsOf(), nodes, slices);
  if (!limits) return { requests: stored, reasons: [] };
  return {
    requests: stored,
    reasons: [
      ...tpuQuotaNeverFits(spec.resources.tpu?.type, tpuChipsOf(spec, stored.podSets), limits),
      ...neverRuns(
        stored.resources,
        limits,
        nodes,
        spec.offload,
        placementOf(spec),
        stored.podSets,
      ),
    ],
  };
}

/** 422 `unschedulable` with every reason the job can never run; nothing if there is none. */
export function refuseNeverRuns(reasons: Parameters<typeof neverFitsView>[0]): void {
  if (reasons.length === 0) return;
  throw new ProblemError(
    422,
    unschedulableProblem,
    'Job can never run',
    `the job can never run: ${reasons.map((r) => r.message).join('; ')}`,
    { reasons: neverFitsView(reasons) },
  );
}
