// The kinds of object the simulator's Kueue manages, as Kueue's job integrations do
// (`GenericJob`): a batch/v1 Job (one pod set `main` of `parallelism` pods) and a
// jobset.x-k8s.io JobSet (one pod set per replicated job, `replicas × parallelism` pods). Each
// says what its Workload's pod sets are, whether it is suspended or ended, and where each pod
// set's pod template lives, so the controller admits, starts and stops both the same way.
import type { Job, JobSet, JobSpec, PodTemplate } from '../api/models.js';
import type { KubeObject } from '../api/registry.js';
import { isJobFinished } from '../controllers/job.js';
import { conditionTrue } from './types.js';

/** One pod set of a Workload, as Kueue builds it from the owner. */
export interface OwnerPodSet {
  name: string;
  count: number;
  template: PodTemplate;
}

export interface KueueIntegration {
  /** The store key of the owner's type. */
  key: string;
  apiVersion: string;
  kind: string;
  /** The first part of the Workload's name (`job-<name>-<hash>`, `jobset-<name>-<hash>`). */
  prefix: string;
  podSets(obj: KubeObject): OwnerPodSet[];
  suspended(obj: KubeObject): boolean;
  setSuspended(obj: KubeObject, suspend: boolean): void;
  /** The owner ended: undefined while it runs or waits. */
  finished(obj: KubeObject): { failed: boolean } | undefined;
  /** The live pod template of each pod set, by pod set name, to change in place. */
  templates(obj: KubeObject): Map<string, PodTemplate>;
}

/** The pods of an indexed Job that run at once: `parallelism`, at most `completions`. */
const podsAtOnce = (spec: Pick<JobSpec, 'parallelism' | 'completions'>): number =>
  Math.min(spec.parallelism ?? 1, spec.completions ?? spec.parallelism ?? 1);

export const jobIntegration: KueueIntegration = {
  key: 'jobs.batch',
  apiVersion: 'batch/v1',
  kind: 'Job',
  prefix: 'job',
  podSets: (obj) => {
    const spec = (obj as Job).spec!;
    return [{ name: 'main', count: podsAtOnce(spec), template: spec.template }];
  },
  suspended: (obj) => !!(obj as Job).spec?.suspend,
  setSuspended: (obj, suspend) => {
    const spec = (obj as Job).spec;
    if (spec) spec.suspend = suspend;
  },
  finished: (obj) => (isJobFinished(obj) ? { failed: conditionTrue(obj, 'Failed') } : undefined),
  templates: (obj) => new Map([['main', (obj as Job).spec!.template]]),
};

export const jobSetIntegration: KueueIntegration = {
  key: 'jobsets.jobset.x-k8s.io',
  apiVersion: 'jobset.x-k8s.io/v1alpha2',
  kind: 'JobSet',
  prefix: 'jobset',
  podSets: (obj) =>
    ((obj as JobSet).spec?.replicatedJobs ?? []).map((rj) => ({
      name: rj.name,
      count: (rj.replicas ?? 1) * podsAtOnce(rj.template.spec),
      template: rj.template.spec.template,
    })),
  suspended: (obj) => !!(obj as JobSet).spec?.suspend,
  setSuspended: (obj, suspend) => {
    const spec = (obj as JobSet).spec;
    if (spec) spec.suspend = suspend;
  },
  finished: (obj) => {
    if (conditionTrue(obj, 'Failed')) return { failed: true };
    return conditionTrue(obj, 'Completed') ? { failed: false } : undefined;
  },
  templates: (obj) =>
    new Map(
      ((obj as JobSet).spec?.replicatedJobs ?? []).map((rj) => [
        rj.name,
        rj.template.spec.template,
      ]),
    ),
};

export const INTEGRATIONS: readonly KueueIntegration[] = [jobIntegration, jobSetIntegration];

export const integrationFor = (key: string): KueueIntegration | undefined =>
  INTEGRATIONS.find((i) => i.key === key);

export const integrationOfKind = (kind: string): KueueIntegration | undefined =>
  INTEGRATIONS.find((i) => i.kind === kind);
