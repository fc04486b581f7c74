/** Injection tokens for what every roam app has. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const PRISMA = Symbol('PRISMA');
export const APP_NAME = Symbol('APP_NAME');
