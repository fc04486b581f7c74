import { Inject, Injectable } from '@nestjs/common';
import { ComputeError, type ComputePort } from '@roam/cloud';
import type { PlannedStep } from '@roam/domain';
import {
  CORDONED_BY_ANNOTATION,
  isNotFound,
  Kube,
  KubeError,
  type KubernetesObject,
} from '@roam/kube';

import { COMPUTE } from '../compute.provider.js';

/** A failure retrying will not fix (the action fails); anything else is retried. */
export class PermanentStepError extends Error {}

const PARALLEL = 16;

/** Whether an error from Kubernetes or the compute API is worth retrying. */
export function isTransient(error: unknown): boolean {
  if (error instanceof PermanentStepError) return false;
  if (error instanceof ComputeError) return error.retryable;
  if (error instanceof KubeError)
    return error.status === 409 || error.status === 429 || error.status >= 500;
  return true;
}

/**
 * Applies one planned step. Every step is idempotent, so a step interrupted by a crash is simply
 * run again: cordoning a cordoned node changes nothing, a leader pod or an instance is only
 * deleted while it is still the incarnation (uid / instance id) that was planned.
 */
@Injectable()
export class StepExecutor {
  constructor(
    private readonly kube: Kube,
    @Inject(COMPUTE) private readonly compute: ComputePort,
  ) {}

  /** `actionId` is recorded on the nodes a cordon takes out (`roam.dev/cordoned-by`). */
  async apply(pool: string, step: PlannedStep, actionId: string): Promise<Record<string, unknown>> {
    switch (step.name) {
      case 'cordon_nodes':
        return this.setUnschedulable(step.nodes, actionId);
      case 'uncordon_nodes':
        return this.setUnschedulable(step.nodes, undefined);
      case 'restart_jobset':
        return this.deleteLeader(step);
      case 'delete_instance':
        return this.deleteInstance(pool, step);
    }
  }

  /** Cordons for `actionId`, or uncordons when it is undefined. */
  private async setUnschedulable(nodes: string[], actionId: string | undefined) {
    const unschedulable = actionId !== undefined;
    const done: string[] = [];
    const missing: string[] = [];
    for (let i = 0; i < nodes.length; i += PARALLEL) {
      await Promise.all(
        nodes.slice(i, i + PARALLEL).map(async (name) => {
          try {
            // null removes the field: what `kubectl uncordon` does.
            await this.kube.mergePatch(
              { apiVersion: 'v1', kind: 'Node', name },
              {
                // The name again: the patch's metadata replaces the reference's.
                metadata: { name, annotations: { [CORDONED_BY_ANNOTATION]: actionId ?? null } },
                spec: { unschedulable: unschedulable ? true : null },
              },
            );
            done.push(name);
          } catch (error) {
            if (!isNotFound(error)) throw error;
            missing.push(name);
          }
        }),
      );
    }
    return { [unschedulable ? 'cordoned' : 'uncordoned']: done.sort(), missing: missing.sort() };
  }

  private async deleteLeader(step: Extract<PlannedStep, { name: 'restart_jobset' }>) {
    const { leaderPod } = step;
    const pod = await this.kube.get<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      name: leaderPod.name,
      namespace: leaderPod.namespace,
    });
    // Gone, or another incarnation: the planned leader was already deleted (before a crash).
    if (!pod || pod.metadata?.uid !== leaderPod.uid || pod.metadata?.deletionTimestamp)
      return { deletedPod: leaderPod.name, alreadyDeleted: true };
    await this.kube.delete({
      apiVersion: 'v1',
      kind: 'Pod',
      name: leaderPod.name,
      namespace: leaderPod.namespace,
    });
    return { deletedPod: leaderPod.name, alreadyDeleted: false };
  }

  private async deleteInstance(
    pool: string,
    step: Extract<PlannedStep, { name: 'delete_instance' }>,
  ) {
    const current = (await this.compute.listInstances(pool)).find(
      (i) => i.name === step.instance.name,
    );
    if (!current || current.id !== step.instance.id || current.status === 'DELETING')
      return { instance: step.instance.name, alreadyDeleted: true };
    const result = await this.compute.deleteInstance(pool, step.instance);
    return {
      instance: step.instance.name,
      alreadyDeleted: false,
      operation: result.operation,
      status: result.status,
    };
  }
}
