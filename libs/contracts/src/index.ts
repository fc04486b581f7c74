export * from './actions.js';
export * from './envelope.js';
export * from './job-spec.js';
export * from './jobs.js';
export * from './registry.js';
export * from './subjects.js';
export * from './tenants.js';
export * from './webhooks.js';
