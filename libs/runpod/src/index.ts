export * from './port.js';
export * from './http-client.js';
