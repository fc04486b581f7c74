import type { FailoverActionType } from './types.js';

/** Which request fields each action type needs (the failover controller: "required for certain actions"). */
export const REQUIRED_FIELDS: Record<FailoverActionType, readonly ('node_pool' | 'jobset_name')[]> =
  {
    cordon_nodepool: ['node_pool'],
    cordon_nodepool_and_restart_jobset: ['node_pool', 'jobset_name'],
    cordon_and_repair_nodepool: ['node_pool'],
    repair_nodepool: ['node_pool'],
    uncordon_nodepool: ['node_pool'],
  };

/** The request's fields, as sent (snake_case). */
export interface RequestFields {
  node_pool?: string | null;
  jobset_name?: string | null;
}

/** The required fields the request leaves out (empty strings count as missing), in order. */
export function missingFields(type: FailoverActionType, request: RequestFields): string[] {
  return REQUIRED_FIELDS[type].filter((field) => !request[field]);
}

/** Whether the action changes the pool's schedulability, and to what. */
export function cordonEffect(type: FailoverActionType): boolean | null {
  switch (type) {
    case 'cordon_nodepool':
    case 'cordon_nodepool_and_restart_jobset':
    case 'cordon_and_repair_nodepool':
      return true;
    case 'uncordon_nodepool':
      return false;
    case 'repair_nodepool':
      return null;
  }
}
