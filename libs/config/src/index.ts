export * from './load.js';
export * from './schemas.js';
export * from './secret-box.js';
