import { preflight } from './preflight.js';
import { cordonEffect } from './requirements.js';
import type {
  FailoverRequest,
  FailoverSnapshot,
  InstanceFacts,
  JobSetFacts,
  PodFacts,
  RoamJobFacts,
} from './types.js';

/** JobSet pod labels the leader is recognised by (jobset.x-k8s.io). */
export const JOBSET_POD_LABELS = {
  name: 'jobset.sigs.k8s.io/jobset-name',
  replicatedJob: 'jobset.sigs.k8s.io/replicatedjob-name',
  jobIndex: 'jobset.sigs.k8s.io/job-index',
  restartAttempt: 'jobset.sigs.k8s.io/restart-attempt',
  completionIndex: 'batch.kubernetes.io/job-completion-index',
} as const;

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  node: string | null;
}

/**
 * One step and exactly what it touches, fixed when the action is planned. A resumed action
 * replays these details, never a fresh plan, so a crash cannot make it act on other objects.
 */
export type PlannedStep =
  | { name: 'cordon_nodes'; nodes: string[] }
  | { name: 'restart_jobset'; namespace: string; jobset: string; leaderPod: PodRef }
  | { name: 'delete_instance'; node: string; instance: InstanceFacts }
  | { name: 'uncordon_nodes'; nodes: string[] };

export type StepName = PlannedStep['name'];

export interface FailoverPlan {
  type: FailoverRequest['type'];
  nodePool: string;
  preflight: { checked: boolean; expected?: number; found: number; source?: string };
  /** The nodes the action changes (the whole pool for a cordon, one node for a repair). */
  nodes: { name: string; unschedulable: boolean; ready: boolean }[];
  /** Pods running on those nodes. */
  pods: { namespace: string; name: string; node: string; phase: string }[];
  /** roam jobs on those nodes, with their tenants. */
  roamJobs: RoamJobFacts[];
  tenants: string[];
  jobset?: { namespace: string; name: string; restarts: number; leaderPod: PodRef };
  instance?: InstanceFacts & { node: string };
  /** Whether the pool ends cordoned (true), uncordoned (false) or untouched (null). */
  poolCordoned: boolean | null;
  steps: PlannedStep[];
}

export type PlanResult =
  | { ok: true; plan: FailoverPlan }
  | { ok: false; error: string; expected?: number; found?: number };

const finishedPhase = (phase: string) => phase === 'Succeeded' || phase === 'Failed';

/**
 * The JobSet's leader pod of its current attempt: job-index 0, completion-index 0 of the first
 * replicated job (deleting it restarts the whole set). Pods of older attempts do not count.
 */
export function findLeaderPod(
  jobset: JobSetFacts,
  pods: readonly PodFacts[],
): PodFacts | undefined {
  const candidates = pods.filter(
    (pod) =>
      pod.namespace === jobset.namespace &&
      pod.labels[JOBSET_POD_LABELS.name] === jobset.name &&
      pod.labels[JOBSET_POD_LABELS.jobIndex] === '0' &&
      (pod.labels[JOBSET_POD_LABELS.completionIndex] ?? '0') === '0' &&
      pod.labels[JOBSET_POD_LABELS.restartAttempt] === String(jobset.restarts) &&
      !finishedPhase(pod.phase),
  );
  const order = (pod: PodFacts) => {
    const index = jobset.replicatedJobs.indexOf(pod.labels[JOBSET_POD_LABELS.replicatedJob] ?? '');
    return index === -1 ? Number.MAX_SAFE_INTEGER : index;
  };
  return candidates.sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name))[0];
}

/**
 * The node a repair deletes: the requested one, or else the first NotReady node by name (the
 * one most likely broken), or else the first node by name.
 */
export function chooseRepairNode(
  nodes: FailoverSnapshot['nodes'],
  requested: string | null,
): { node: string } | { error: string } {
  if (requested) {
    return nodes.some((n) => n.name === requested)
      ? { node: requested }
      : { error: `node ${requested} is not in the node pool` };
  }
  const sorted = [...nodes].sort(
    (a, b) => Number(a.ready) - Number(b.ready) || a.name.localeCompare(b.name),
  );
  return sorted[0] ? { node: sorted[0].name } : { error: 'the node pool has no nodes' };
}

/**
 * Decides what an action does, from a snapshot read just before: preflight first, then the
 * steps in order (cordon, restart the JobSet or delete an instance, or uncordon) and what each
 * touches. Pure, so a dry run reports exactly what a real run would do.
 */
export function buildPlan(request: FailoverRequest, snapshot: FailoverSnapshot): PlanResult {
  const pool = request.nodePool;
  if (!pool) return { ok: false, error: 'node_pool is required' };
  const nodes = [...snapshot.nodes].sort((a, b) => a.name.localeCompare(b.name));
  const check = preflight(request, nodes);
  if (!check.ok)
    return { ok: false, error: check.message, expected: check.expected, found: check.found };
  if (nodes.length === 0) return { ok: false, error: `node pool ${pool} has no nodes` };

  const steps: PlannedStep[] = [];
  const poolCordoned = cordonEffect(request.type);
  let affected = nodes.map((n) => n.name);
  let jobset: FailoverPlan['jobset'];
  let instance: FailoverPlan['instance'];

  if (poolCordoned === true) steps.push({ name: 'cordon_nodes', nodes: affected });

  if (request.type === 'cordon_nodepool_and_restart_jobset') {
    const facts = snapshot.jobset;
    const name = request.jobsetName ?? '';
    if (!facts) return { ok: false, error: `JobSet ${request.namespace}/${name} not found` };
    if (facts.finished)
      return {
        ok: false,
        error: `JobSet ${facts.namespace}/${facts.name} has finished; there is nothing to restart`,
      };
    const leader = findLeaderPod(facts, snapshot.pods);
    if (!leader)
      return {
        ok: false,
        error: `JobSet ${facts.namespace}/${facts.name} has no running leader pod (restart attempt ${facts.restarts}) to delete`,
      };
    const leaderPod = {
      namespace: leader.namespace,
      name: leader.name,
      uid: leader.uid,
      node: leader.node,
    };
    jobset = { namespace: facts.namespace, name: facts.name, restarts: facts.restarts, leaderPod };
    steps.push({
      name: 'restart_jobset',
      namespace: facts.namespace,
      jobset: facts.name,
      leaderPod,
    });
  }

  if (request.type === 'cordon_and_repair_nodepool' || request.type === 'repair_nodepool') {
    const choice = chooseRepairNode(nodes, request.nodeName);
    if ('error' in choice) return { ok: false, error: `${choice.error} (node pool ${pool})` };
    const found = (snapshot.instances ?? []).find((i) => i.name === choice.node);
    if (!found)
      return {
        ok: false,
        error: `no compute instance named ${choice.node} in the instance groups of node pool ${pool}`,
      };
    instance = { ...found, node: choice.node };
    if (request.type === 'repair_nodepool') affected = [choice.node];
    steps.push({ name: 'delete_instance', node: choice.node, instance: found });
  }

  if (poolCordoned === false) steps.push({ name: 'uncordon_nodes', nodes: affected });

  const onAffected = new Set(affected);
  const pods = snapshot.pods
    .filter((p) => p.node !== null && onAffected.has(p.node) && !finishedPhase(p.phase))
    .map((p) => ({ namespace: p.namespace, name: p.name, node: p.node ?? '', phase: p.phase }))
    .sort(
      (a, b) =>
        a.node.localeCompare(b.node) ||
        a.namespace.localeCompare(b.namespace) ||
        a.name.localeCompare(b.name),
    );
  const roamJobs = snapshot.roamJobs
    .filter((j) => onAffected.has(j.node))
    .sort((a, b) => a.node.localeCompare(b.node) || a.jobId.localeCompare(b.jobId));
  return {
    ok: true,
    plan: {
      type: request.type,
      nodePool: pool,
      preflight: {
        checked: check.checked,
        found: check.found,
        ...(check.expected !== undefined ? { expected: check.expected } : {}),
        ...(check.source !== undefined ? { source: check.source } : {}),
      },
      nodes: nodes
        .filter((n) => onAffected.has(n.name))
        .map((n) => ({ name: n.name, unschedulable: n.unschedulable, ready: n.ready })),
      pods,
      roamJobs,
      tenants: [...new Set(roamJobs.map((j) => j.tenantId))].sort(),
      ...(jobset ? { jobset } : {}),
      ...(instance ? { instance } : {}),
      poolCordoned,
      steps,
    },
  };
}
