import { z } from 'zod';

/**
 * Node-pool failover actions (the failover controller). The failover controller's four types plus
 * `uncordon_nodepool`, which undoes a cordon once the pool is healthy again.
 */
export const actionTypes = [
  'cordon_nodepool',
  'cordon_nodepool_and_restart_jobset',
  'cordon_and_repair_nodepool',
  'repair_nodepool',
  'uncordon_nodepool',
] as const;
export const actionType = z.enum(actionTypes);
export type ActionType = z.infer<typeof actionType>;

export const actionState = z.enum(['pending', 'running', 'succeeded', 'failed']);
export type ActionState = z.infer<typeof actionState>;

/** Command: the failover worker should run (or resume) this recorded action. */
export const actionExecuteCommand = z.object({
  actionId: z.string().min(1),
});
export type ActionExecuteCommand = z.infer<typeof actionExecuteCommand>;

/**
 * Payload of every `roam.evt.v1.action.*` event. `plan` says what the action touches (or, for a
 * dry run, would touch): nodes, pods and roam jobs with their tenants, the JobSet and its leader
 * pod, the compute instance. A `succeeded` event of a cordon names the pool, so the scheduler
 * can re-evaluate the jobs pending for it.
 */
export const actionEvent = z.object({
  actionId: z.string().min(1),
  type: actionType,
  state: actionState,
  dryRun: z.boolean(),
  requestor: z.string(),
  reason: z.string(),
  nodePool: z.string().nullable(),
  namespace: z.string().nullable(),
  jobsetName: z.string().nullable(),
  nodeName: z.string().nullable(),
  /** Whether the pool is left cordoned by this action (true), uncordoned (false), or untouched. */
  poolCordoned: z.boolean().nullish(),
  plan: z.record(z.string(), z.unknown()).nullish(),
  outcome: z.record(z.string(), z.unknown()).nullish(),
  error: z.string().nullish(),
});
export type ActionEvent = z.infer<typeof actionEvent>;
