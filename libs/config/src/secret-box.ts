import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

import { ConfigError } from './load.js';

/**
 * Envelope encryption of secrets at rest (webhook signing secrets, stored idempotent responses).
 * Each value gets its own random 256-bit data key; the value is sealed with AES-256-GCM under
 * that data key, and the data key is sealed (wrapped) under a key-encryption key (KEK) from the
 * keyring. The KEK's id travels with the ciphertext, so keys can be rotated: new values use the
 * primary key, values under older keys still open while their key is configured, and a
 * background pass re-seals them under the primary (docs/security.md, "Secrets at rest").
 *
 * Sealed form: `enc:v1:<key id>:<wrapped data key>:<sealed value>`, each part base64url of
 * `iv (12) ‖ ciphertext ‖ tag (16)`. Anything not starting with `enc:` is a legacy plaintext
 * value written before encryption existed.
 */
export const SEALED_PREFIX = 'enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** The id of the key derived when none is configured (development and tests only). */
export const DERIVED_KEY_ID = 'derived';

/** A value that cannot be opened: unknown key id, wrong key, tampered or malformed text. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export interface KeyringSource {
  NODE_ENV: 'development' | 'test' | 'production';
  DATABASE_URL: string;
  ROAM_SECRETS_KEYS?: string | undefined;
}

export interface Keyring {
  /** New values are sealed under this key. */
  primaryId: string;
  keys: ReadonlyMap<string, Buffer>;
  /** True when no key was configured and the development key was derived. */
  derived: boolean;
}

/**
 * Parses `id:base64key,id:base64key,…` (first = primary). Throws a `ConfigError` naming the
 * variable on a malformed entry, a key that is not 32 bytes or a repeated id.
 */
export function parseKeyring(text: string): Keyring {
  const keys = new Map<string, Buffer>();
  const problems: string[] = [];
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const encoded = colon > 0 ? entry.slice(colon + 1) : '';
    if (!KEY_ID.test(id)) {
      problems.push(`entry ${index + 1}: expected <id>:<base64 key>, the id 1-32 of [A-Za-z0-9_-]`);
      continue;
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      problems.push(`key "${id}": must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
      continue;
    }
    if (keys.has(id)) problems.push(`key "${id}": listed twice`);
    keys.set(id, key);
  }
  if (entries.length === 0) problems.push('no key given');
  if (problems.length > 0) {
    throw new ConfigError(
      'secrets',
      problems.map((message) => ({ key: 'ROAM_SECRETS_KEYS', message })),
    );
  }
  return { primaryId: [...keys.keys()][0]!, keys, derived: false };
}

/**
 * The keyring an app uses. With `ROAM_SECRETS_KEYS` set: those keys. Unset in production: a
 * `ConfigError` (secrets are never stored in clear, and a key only this process knows would
 * lose them at the next restart). Unset otherwise: a key derived from `DATABASE_URL`, the same
 * in every process of one installation, so the gateway and the notifier agree without setup;
 * the caller must warn that it is not a secret.
 */
export function keyringFrom(config: KeyringSource): Keyring {
  if (config.ROAM_SECRETS_KEYS) return parseKeyring(config.ROAM_SECRETS_KEYS);
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('secrets', [
      {
        key: 'ROAM_SECRETS_KEYS',
        message:
          'required when NODE_ENV=production: webhook secrets and stored responses are encrypted with it (generate one: echo "k1:$(openssl rand -base64 32)")',
      },
    ]);
  }
  const derived = Buffer.from(
    hkdfSync('sha256', config.DATABASE_URL, 'roam', 'roam development secrets key', KEY_BYTES),
  );
  return { primaryId: DERIVED_KEY_ID, keys: new Map([[DERIVED_KEY_ID, derived]]), derived: true };
}

function encrypt(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function decrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new SecretBoxError('sealed value does not authenticate (wrong key or altered text)');
  }
}

/**
 * Seals and opens values with a keyring. `context` is authenticated with the value (e.g.
 * `webhook-secret`): a value sealed for one purpose does not open as another.
 */
export class SecretBox {
  constructor(readonly keyring: Keyring) {}

  static isSealed(text: string): boolean {
    return text.startsWith(SEALED_PREFIX);
  }

  /** The id of the key a stored value is sealed under; undefined for a legacy plaintext value. */
  static keyIdOf(text: string): string | undefined {
    if (!SecretBox.isSealed(text)) return undefined;
    return text.slice(SEALED_PREFIX.length).split(':', 1)[0];
  }

  get primaryId(): string {
    return this.keyring.primaryId;
  }

  seal(plain: string, context: string): string {
    const dataKey = randomBytes(KEY_BYTES);
    const kek = this.keyring.keys.get(this.keyring.primaryId)!;
    const wrapped = encrypt(kek, dataKey, `${this.keyring.primaryId}:${context}`);
    const body = encrypt(dataKey, Buffer.from(plain, 'utf8'), context);
    return `${SEALED_PREFIX}${this.keyring.primaryId}:${wrapped}:${body}`;
  }

  /** Opens a sealed value; a legacy plaintext value is returned as it is. */
  open(text: string, context: string): string {
    if (!SecretBox.isSealed(text)) return text;
    const parts = text.slice(SEALED_PREFIX.length).split(':');
    if (parts.length !== 3) throw new SecretBoxError('sealed value is malformed');
    const [keyId, wrapped, body] = parts as [string, string, string];
    const kek = this.keyring.keys.get(keyId);
    if (!kek) {
      throw new SecretBoxError(
        `sealed under key "${keyId}", which ROAM_SECRETS_KEYS does not list (configured: ${[...this.keyring.keys.keys()].join(', ')})`,
      );
    }
    const dataKey = decrypt(kek, wrapped, `${keyId}:${context}`);
    return decrypt(dataKey, body, context).toString('utf8');
  }

  /** Whether a stored value should be re-sealed: plaintext, or under a key other than the primary. */
  needsReseal(text: string): boolean {
    return SecretBox.keyIdOf(text) !== this.keyring.primaryId;
  }
}

/**
 * The app's `SecretBox`, built at boot from its config. `warn` is called (once) when the key was
 * derived because none is configured, so that no one mistakes it for a protected setup.
 */
export function secretBoxFrom(config: KeyringSource, warn: (message: string) => void): SecretBox {
  const box = new SecretBox(keyringFrom(config));
  if (box.keyring.derived) {
    warn(
      'ROAM_SECRETS_KEYS is not set: secrets at rest are encrypted with a key derived from DATABASE_URL, which anyone who can read the configuration can rebuild. Set ROAM_SECRETS_KEYS before storing real secrets (required when NODE_ENV=production).',
    );
  }
  return box;
}
