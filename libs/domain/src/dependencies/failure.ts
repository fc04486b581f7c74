import type { JobEvent } from '../scheduling/job-state.js';

/** `on_dependency_failure` of a spec; absent means `cancel`. */
export type DependencyFailurePolicy = 'cancel' | 'keep';

/**
 * What becomes of a job one of whose dependencies can no longer be met: cancelled with reason
 * `DependencyFailed`, or, when its spec says `keep`, left queued as `DependencyNeverSatisfied`
 * (it is never admitted: its dependency stays unmet) until its owner cancels it.
 */
export function failedDependencyEvent(
  policy: DependencyFailurePolicy | undefined,
  dependency: string,
): JobEvent {
  return policy === 'keep'
    ? {
        type: 'queue',
        reason: 'DependencyNeverSatisfied',
        message: `kept (on_dependency_failure: keep), but ${dependency} can no longer be met`,
      }
    : { type: 'cancel', reason: 'DependencyFailed', message: `${dependency} can no longer be met` };
}
