import {
  gpuCount,
  gpuTypeOf,
  type JobSpec,
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

/**
 * A single-pod TPU job's requests once its slice is laid out on these nodes: a slice of several
 * hosts is a gang of one pod per host (`slice` × hosts, each with the spec's CPU and memory), so
 * the row holds every host's requests, which the tenant's usage sums once it is admitted.
 * Anything else is returned as it is.
 */
export function withSlicePods(
  spec: JobSpec,
  requests: JobRequests,
  nodes: readonly NodeState[],
): JobRequests {
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

/**
 * 422 for a multi-pod job (`parallelism`, `replicated_jobs`) asking for a TPU slice that spans
 * several hosts on this cluster: such a slice runs as one pod per host, which are its pods
 * (docs/scheduling.md#flavors), and several slices in one job are not built.
 */
export function assertSliceNotMultiPod(spec: JobSpec, nodes: readonly NodeState[]): void {
  if (!podSetsOf(spec)) return;
  const slices = [
    { path: 'resources.tpu', tpu: spec.resources.tpu },
    ...(spec.replicated_jobs ?? []).map((rj, i) => ({
      path: `replicated_jobs.${i}.resources.tpu`,
      tpu: rj.resources?.tpu,
    })),
  ];
  const problems = slices.flatMap(({ path, tpu }) => {
    if (!tpu) return [];
    const { hosts } = sliceLayout(tpu, nodes);
    if (hosts <= 1) return [];
    return [
      {
        path,
        message: `a ${tpu.type} ${tpu.topology} slice spans ${hosts} hosts and runs as one pod per host; leave out parallelism and replicated_jobs (several slices in one job are not supported)`,
      },
    ];
  });
  refuseMultiPod(problems);
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
export function tpuChipsOf(spec: JobSpec): number {
  const tpu = spec.resources.tpu;
  if (!tpu) return 0;
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
 * none stores a slice as one pod or accepts what can never run: a multi-pod job's slice must
 * be single-host (422 thrown), the slice's hosts become the row's pods, and the TPU quota, the
 * quota and the nodes give the reasons it can never run (docs/scheduling.md#multi-pod). Pure:
 * the caller reads the nodes and limits once (a batch once for all its items) and decides
 * whether the reasons refuse one job or name a batch's item.
 */
export function submitVerdict(
  spec: JobSpec,
  requests: JobRequests,
  nodes: readonly NodeState[],
  limits: (TenantLimits & Partial<Pick<TenantState, 'tpuQuota' | 'tpuQuotaByType'>>) | undefined,
): SubmitVerdict {
  assertSliceNotMultiPod(spec, nodes);
  const stored = withSlicePods(spec, requests, nodes);
  if (!limits) return { requests: stored, reasons: [] };
  return {
    requests: stored,
    reasons: [
      ...tpuQuotaNeverFits(spec.resources.tpu?.type, tpuChipsOf(spec), limits),
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
