export * from './compute.js';
export * from './fake-compute.js';
export * from './gce-compute.js';
