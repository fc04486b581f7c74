// Pure scheduling decisions (docs/architecture.md#rule-5): admission, explanations, submit-time
// rejection, retries, the job state model and the reconciler's plan. No framework, database or
// Kubernetes imports.
export * from './admission.js';
export * from './capacity-loss.js';
export * from './borrowing.js';
export * from './explain.js';
export * from './fair-share.js';
export * from './gang.js';
export * from './heap.js';
export * from './job-state.js';
export * from './job-state-table.js';
export * from './kubernetes.js';
export * from './never-fits.js';
export * from './nodes.js';
export * from './nodes-from-kubernetes.js';
export * from './pods-ready.js';
export * from './preemption.js';
export * from './priority-classes.js';
export * from './reconcile.js';
export * from './resources.js';
export * from './retry.js';
export * from './snapshot.js';
export * from './tpu.js';
