export * from './jetstream/index.js';
export * from './outbox/index.js';
export * from './accounts.js';
export { connectionOptionsOf } from './jetstream/connection.js';
