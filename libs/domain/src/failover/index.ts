export * from './plan.js';
export * from './preflight.js';
export * from './requirements.js';
export * from './types.js';
