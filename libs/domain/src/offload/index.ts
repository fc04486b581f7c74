export * from './gpu-choice.js';
export * from './triggers.js';
