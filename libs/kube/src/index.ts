export * from './errors.js';
export * from './kube.js';
export * from './labels.js';
export * from './throttle.js';
export * from './watch.js';
