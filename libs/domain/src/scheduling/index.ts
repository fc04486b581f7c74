// Pure scheduling decisions (DESIGN.md rule 5): admission, explanations, submit-time
// rejection, retries and the job state model. No framework, database or Kubernetes imports.
export * from './admission.js';
export * from './explain.js';
export * from './job-state.js';
export * from './job-state-table.js';
export * from './kubernetes.js';
export * from './never-fits.js';
export * from './nodes.js';
export * from './nodes-from-kubernetes.js';
export * from './resources.js';
export * from './retry.js';
export * from './snapshot.js';
