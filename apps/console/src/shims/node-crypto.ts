/** What the typed client takes from `node:crypto`, from the browser's Web Crypto. */
export const randomUUID = (): string => globalThis.crypto.randomUUID();
