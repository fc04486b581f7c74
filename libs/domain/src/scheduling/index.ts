// Pure scheduling decisions (docs/architecture.md#rule-5): admission, explanations, submit-time
// rejection, retries, the job state model and the reconciler's plan. No framework, database or
// Kubernetes imports.
export * from './admission.js';
export * from './explain.js';
export * from './fair-share.js';
export * from './job-state.js';
export * from './job-state-table.js';
export * from './kubernetes.js';
export * from './never-fits.js';
export * from './nodes.js';
export * from './nodes-from-kubernetes.js';
export * from './reconcile.js';
export * from './resources.js';
export * from './retry.js';
export * from './snapshot.js';
export * from './tpu.js';
