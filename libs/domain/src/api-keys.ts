import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `sk-` (SUMO-K8 format) + 43 characters of base64url = 256 random bits. Only the
 * SHA-256 of a key is stored; a slow hash adds nothing for secrets of this entropy and would
 * cost every request. `prefix` (the first 11 characters) is shown so users can tell keys apart.
 */
export const API_KEY_PREFIX = 'sk-';
export const ADMIN_KEY_PREFIX = 'sk-admin-';

export interface NewApiKey {
  key: string;
  hash: string;
  prefix: string;
}

export function generateApiKey(kind: 'tenant' | 'admin' = 'tenant'): NewApiKey {
  const key = `${kind === 'admin' ? ADMIN_KEY_PREFIX : API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, kind === 'admin' ? 17 : 11) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares two secrets in time independent of where they differ (and of their lengths). */
export function secretsEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right);
}

/** Cheap shape check before any lookup: rejects junk without touching the database. */
export function looksLikeApiKey(token: string): boolean {
  return /^sk-(admin-)?[A-Za-z0-9_-]{43}$/.test(token);
}
