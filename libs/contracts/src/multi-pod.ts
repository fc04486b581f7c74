import { type JobSpec, MAX_PODS_PER_JOB, tpuTopologyChips } from './job-spec.js';

/**
 * Most pods one job may run over its life (every completion of every child Job): each gets its
 * own results upload URL, all minted when the attempt's objects are created.
 */
export const MAX_COMPLETIONS_PER_JOB = 10_000;

/** The requests of one pod, in the JobSpec's own quantities. */
export type PodRequests = JobSpec['resources'];

/**
 * A group of identical pods of one job that must run at once: `main` for an indexed Job
 * (`parallelism` pods), one per replicated job of a JobSet (`replicas × parallelism` pods).
 */
export interface SpecPodSet {
  name: string;
  count: number;
  resources: PodRequests;
}

/** The name of an indexed Job's one pod set. */
export const MAIN_POD_SET = 'main';

export type MultiPodKind = 'single' | 'indexed' | 'jobset';

/** Whether the spec is today's single pod, one indexed Job, or a JobSet. */
export function multiPodKind(
  spec: Pick<JobSpec, 'parallelism' | 'completions' | 'replicated_jobs'>,
): MultiPodKind {
  if (spec.replicated_jobs) return 'jobset';
  if (spec.parallelism !== undefined || spec.completions !== undefined) return 'indexed';
  return 'single';
}

/** An indexed Job's parallelism and completions, each defaulting to the other. */
export function indexedShape(spec: Pick<JobSpec, 'parallelism' | 'completions'>): {
  parallelism: number;
  completions: number;
} {
  const parallelism = spec.parallelism ?? spec.completions ?? 1;
  const completions = spec.completions ?? parallelism;
  return { parallelism: Math.min(parallelism, completions), completions };
}

/**
 * Combinations the schema's field checks cannot see, each as `{ path, message }`: a JobSet's
 * fields with an indexed Job's, JobSet policies without replicated jobs, duplicate or unknown
 * replicated job names, and more pods than one job may have. Empty when the spec is coherent.
 */
export function multiPodProblems(spec: JobSpec): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const jobs = spec.replicated_jobs;
  if (jobs) {
    for (const field of ['parallelism', 'completions'] as const)
      if (spec[field] !== undefined)
        problems.push({
          path: field,
          message: `cannot be combined with replicated_jobs (set it on each replicated job instead)`,
        });
    const names = new Set<string>();
    jobs.forEach((rj, i) => {
      if (names.has(rj.name))
        problems.push({
          path: `replicated_jobs.${i}.name`,
          message: `"${rj.name}" names two replicated jobs; names must be unique`,
        });
      names.add(rj.name);
    });
    (spec.success_policy?.target_replicated_jobs ?? []).forEach((target, i) => {
      if (!names.has(target))
        problems.push({
          path: `success_policy.target_replicated_jobs.${i}`,
          message: `"${target}" is not one of the replicated jobs (${[...names].join(', ')})`,
        });
    });
  } else {
    for (const field of ['success_policy', 'failure_policy'] as const)
      if (spec[field] !== undefined)
        problems.push({ path: field, message: 'applies only to a job with replicated_jobs' });
    if (
      spec.parallelism !== undefined &&
      spec.completions !== undefined &&
      spec.completions < spec.parallelism
    )
      problems.push({ path: 'completions', message: 'must be at least parallelism' });
  }
  if (spec.offload !== 'never' && multiPodKind(spec) !== 'single')
    problems.push({
      path: 'offload',
      message: 'a multi-pod job runs on the cluster only; leave offload at "never"',
    });
  const pods = (podSetsOf(spec) ?? []).reduce((n, set) => n + set.count, 0);
  const completions = completionsOf(spec);
  if (completions > MAX_COMPLETIONS_PER_JOB)
    problems.push({
      path: jobs ? 'replicated_jobs' : 'completions',
      message: `asks for ${completions} pods all told; a job may run at most ${MAX_COMPLETIONS_PER_JOB}`,
    });
  if (pods > MAX_PODS_PER_JOB)
    problems.push({
      path: jobs ? 'replicated_jobs' : 'parallelism',
      message: `asks for ${pods} pods at once; a job may have at most ${MAX_PODS_PER_JOB}`,
    });
  return problems;
}

/** The job's pod sets; undefined for a single-pod job. */
export function podSetsOf(spec: JobSpec): SpecPodSet[] | undefined {
  switch (multiPodKind(spec)) {
    case 'single':
      return undefined;
    case 'indexed':
      return [
        { name: MAIN_POD_SET, count: indexedShape(spec).parallelism, resources: spec.resources },
      ];
    case 'jobset':
      return (spec.replicated_jobs ?? []).map((rj) => ({
        name: rj.name,
        count: rj.replicas * (rj.parallelism ?? 1),
        resources: rj.resources ?? spec.resources,
      }));
  }
}

/** One replica a caller can name (`?replica=`): an index of an indexed Job, or `<name>-<i>`. */
export type ReplicaRef =
  { kind: 'indexed'; index: number } | { kind: 'jobset'; replicatedJob: string; index: number };

/**
 * What `replica` names in this job, or undefined when the job has no such replica: `3` for an
 * indexed Job's completion index 3, `worker-1` for replica 1 of the replicated job `worker`. A
 * TPU job's pods are the hosts of its slice (an indexed Job when the slice spans several): its
 * replicas are indexes below the slice's chips, the most hosts it can have (how many it has
 * depends on the nodes, so an index past them names a pod that never exists).
 */
export function replicaOf(spec: JobSpec, replica: string): ReplicaRef | undefined {
  const indexed = (count: number): ReplicaRef | undefined => {
    if (!/^(0|[1-9][0-9]{0,5})$/.test(replica)) return undefined;
    const index = Number(replica);
    return index < count ? { kind: 'indexed', index } : undefined;
  };
  switch (multiPodKind(spec)) {
    case 'single':
      return spec.resources.tpu
        ? indexed(tpuTopologyChips(spec.resources.tpu.topology))
        : undefined;
    case 'indexed':
      return indexed(indexedShape(spec).completions);
    case 'jobset': {
      const match = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(0|[1-9][0-9]{0,5})$/.exec(replica);
      if (!match) return undefined;
      const rj = spec.replicated_jobs?.find((r) => r.name === match[1]);
      const index = Number(match[2]);
      return rj && index < rj.replicas
        ? { kind: 'jobset', replicatedJob: rj.name, index }
        : undefined;
    }
  }
}

/**
 * One pod's results of a multi-pod job: `slot` is how its results uploader finds its upload
 * URL in the attempt's manifest (`<replicated job or main>/<child Job index>/<completion
 * index>`, read by the pod from its own annotations), `prefix` where its files are kept among
 * the job's results: the replica (`3/`, `worker-1/`), and the pod's completion index under it
 * when a replicated job's child Job has more than one pod (`worker-1/0/`).
 */
export interface ResultSlot {
  slot: string;
  prefix: string;
}

/** How many pods the job runs over its life (every completion of every child Job), counted. */
export function completionsOf(spec: JobSpec): number {
  switch (multiPodKind(spec)) {
    case 'single':
      return 1;
    case 'indexed':
      return indexedShape(spec).completions;
    case 'jobset':
      return (spec.replicated_jobs ?? []).reduce(
        (n, rj) => n + rj.replicas * (rj.completions ?? rj.parallelism ?? 1),
        0,
      );
  }
}

/**
 * Every pod's result slot of a multi-pod job; undefined for a single-pod job. At most
 * MAX_COMPLETIONS_PER_JOB for a spec that passed `multiPodProblems`.
 */
export function resultSlotsOf(spec: JobSpec): ResultSlot[] | undefined {
  switch (multiPodKind(spec)) {
    case 'single':
      return undefined;
    case 'indexed':
      return Array.from({ length: indexedShape(spec).completions }, (_, i) => ({
        slot: `${MAIN_POD_SET}/0/${i}`,
        prefix: `${i}/`,
      }));
    case 'jobset':
      return (spec.replicated_jobs ?? []).flatMap((rj) => {
        const completions = rj.completions ?? rj.parallelism ?? 1;
        return Array.from({ length: rj.replicas }, (_, j) =>
          Array.from({ length: completions }, (_, i) => ({
            slot: `${rj.name}/${j}/${i}`,
            prefix: completions > 1 ? `${rj.name}-${j}/${i}/` : `${rj.name}-${j}/`,
          })),
        ).flat();
      });
  }
}
