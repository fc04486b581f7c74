export * from './load.js';
export * from './schemas.js';
export * from './nats.js';
export * from './secret-box.js';
