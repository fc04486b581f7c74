export * from './jetstream/index.js';
export * from './outbox/index.js';
