export * from './database.js';
export * from './eventually.js';
export * from './nats.js';
