// @roam/jobs: the job ledger, the one way a job's state changes (docs/ledger.md).
export * from './envelope.js';
export * from './ledger.js';
export * from './array.js';
export * from './dependencies.js';
export * from './job-sets.js';
