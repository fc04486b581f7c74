export * from './destination.js';
export * from './signature.js';
