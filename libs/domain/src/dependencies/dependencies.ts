/**
 * Dependencies between jobs and arrays (docs/pipelines.md): what a submit may ask for, the
 * order of a pipeline's steps, and how a waiting job's dependencies are explained. Pure.
 */

export type DependencyCondition =
  'succeeded' | 'finished' | 'failed' | 'all_succeeded' | 'any_failed';

/** Conditions on one job (or, N_TO_N, on each element). */
export const JOB_CONDITIONS: readonly DependencyCondition[] = ['succeeded', 'finished', 'failed'];
/** Conditions on a whole array. */
export const ARRAY_CONDITIONS: readonly DependencyCondition[] = [
  'all_succeeded',
  'any_failed',
  'finished',
];

export interface RequestedDependency {
  job: string;
  on: DependencyCondition;
  type?: 'N_TO_N' | undefined;
}

/** What a dependency's id turned out to be, among the tenant's own jobs and arrays. */
export type DependencyTarget =
  { kind: 'job'; id: string } | { kind: 'array'; id: string; size: number };

/** What waits: one job, or every element of an array of `size`. */
export type Dependent = { kind: 'job' } | { kind: 'array'; size: number };

export interface CheckedDependency {
  target: DependencyTarget;
  condition: DependencyCondition;
  /** N_TO_N: the size of both arrays. */
  nToN?: number;
}

export type DependencyCheck =
  | { ok: true; dependencies: CheckedDependency[] }
  /** `missing`: ids that are no job or array of the tenant (answered as not found). */
  | { ok: false; missing: string[]; issues: { index: number; message: string }[] };

const list = (conditions: readonly string[]) => conditions.join(', ');

/**
 * Checks `requested` against the targets found (`targets` by id; an id not there is unknown,
 * or another tenant's: the same answer). Each entry gets the first problem found with it.
 */
export function checkDependencies(
  dependent: Dependent,
  requested: readonly RequestedDependency[],
  targets: ReadonlyMap<string, DependencyTarget>,
  max: number,
): DependencyCheck {
  const issues: { index: number; message: string }[] = [];
  const missing: string[] = [];
  const dependencies: CheckedDependency[] = [];
  if (requested.length > max)
    issues.push({ index: max, message: `at most ${max} dependencies are allowed` });
  const seen = new Set<string>();
  requested.forEach((entry, index) => {
    const target = targets.get(entry.job);
    if (!target) {
      missing.push(entry.job);
      return;
    }
    if (seen.has(entry.job)) {
      issues.push({ index, message: `${entry.job} is named twice` });
      return;
    }
    seen.add(entry.job);
    if (entry.type === 'N_TO_N') {
      if (dependent.kind !== 'array' || target.kind !== 'array') {
        issues.push({
          index,
          message: 'N_TO_N is between two arrays: submit an array that depends on an array',
        });
      } else if (dependent.size !== target.size) {
        issues.push({
          index,
          message: `N_TO_N needs arrays of the same size: this one has ${dependent.size} elements, array ${target.id} has ${target.size}`,
        });
      } else if (!JOB_CONDITIONS.includes(entry.on)) {
        issues.push({
          index,
          message: `on must be one of ${list(JOB_CONDITIONS)} for N_TO_N (each element waits for one element)`,
        });
      } else dependencies.push({ target, condition: entry.on, nToN: target.size });
      return;
    }
    const allowed = target.kind === 'job' ? JOB_CONDITIONS : ARRAY_CONDITIONS;
    if (!allowed.includes(entry.on)) {
      issues.push({
        index,
        message: `${entry.job} is ${target.kind === 'job' ? 'a job' : 'an array'}: on must be one of ${list(allowed)}`,
      });
      return;
    }
    dependencies.push({ target, condition: entry.on });
  });
  if (missing.length > 0 || issues.length > 0) return { ok: false, missing, issues };
  return { ok: true, dependencies };
}

/** A pipeline step as far as ordering goes: its name and the steps it depends on. */
export interface StepOrderInput {
  name: string;
  after: readonly string[];
}

export type StepOrder =
  { ok: true; order: string[] } | { ok: false; issues: { step: string; message: string }[] };

/**
 * The steps in an order where every step comes after those it depends on (Kahn's algorithm,
 * ties in the order given), or why there is none: a duplicate name, a reference to no step, a
 * cycle (named step by step).
 */
export function orderSteps(steps: readonly StepOrderInput[]): StepOrder {
  const issues: { step: string; message: string }[] = [];
  const names = new Set<string>();
  for (const step of steps) {
    if (names.has(step.name)) issues.push({ step: step.name, message: 'two steps have this name' });
    names.add(step.name);
  }
  for (const step of steps)
    for (const name of step.after) {
      if (name === step.name) issues.push({ step: step.name, message: 'depends on itself' });
      else if (!names.has(name))
        issues.push({ step: step.name, message: `depends on "${name}", which is no step` });
    }
  if (issues.length > 0) return { ok: false, issues };

  const remaining = new Map(steps.map((step) => [step.name, new Set(step.after)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, after]) => after.size === 0).map(([name]) => name);
    if (ready.length === 0) {
      const cycle = findCycle(remaining);
      return {
        ok: false,
        issues: [
          {
            step: cycle[0]!,
            message: `steps depend on each other in a cycle: ${cycle.join(' → ')}`,
          },
        ],
      };
    }
    for (const name of ready) {
      order.push(name);
      remaining.delete(name);
      for (const after of remaining.values()) after.delete(name);
    }
  }
  return { ok: true, order };
}

/** A cycle among steps none of which is ready: follow dependencies until a step repeats. */
function findCycle(remaining: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const path: string[] = [];
  let current = remaining.keys().next().value!;
  while (!path.includes(current)) {
    path.push(current);
    current = remaining.get(current)!.values().next().value!;
  }
  return [...path.slice(path.indexOf(current)), current];
}

/** A dependency of a waiting job as stored, with where its target stands. */
export interface DependencyStanding {
  target: DependencyTarget;
  condition: DependencyCondition;
  state: 'waiting' | 'met' | 'failed';
  /** The target job's phase, or the array's finished/total elements. */
  progress: { phase: string } | { finished: number; size: number };
}

const describe = (d: DependencyStanding): string => {
  const what = d.target.kind === 'job' ? `job ${d.target.id}` : `array ${d.target.id}`;
  const where =
    'phase' in d.progress
      ? `it is ${d.progress.phase}`
      : `${d.progress.finished} of ${d.progress.size} elements finished`;
  return `${what} (on: ${d.condition}; ${where})`;
};

/** One sentence on what a job's dependencies hold it for; undefined when all are met. */
export function explainDependencies(
  dependencies: readonly DependencyStanding[],
): string | undefined {
  const failed = dependencies.filter((d) => d.state === 'failed');
  if (failed.length > 0)
    return `a dependency can no longer be met: ${failed.map(describe).join('; ')}`;
  const waiting = dependencies.filter((d) => d.state === 'waiting');
  if (waiting.length === 0) return undefined;
  const met = dependencies.length - waiting.length;
  return `waiting for ${waiting.length} of ${dependencies.length} dependencies (${met} met): ${waiting.map(describe).join('; ')}`;
}
