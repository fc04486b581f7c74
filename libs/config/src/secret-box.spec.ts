import { randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { ConfigError } from './load.js';
import {
  DERIVED_KEY_ID,
  keyringFrom,
  parseKeyring,
  SecretBox,
  SecretBoxError,
} from './secret-box.js';

const key = () => randomBytes(32).toString('base64');
const DB = 'postgresql://postgres@127.0.0.1:5432/roam';

describe('SecretBox', () => {
  it('seals a value so that the text holds neither the value nor a fixed ciphertext', () => {
    const box = new SecretBox(parseKeyring(`k1:${key()}`));
    const first = box.seal('whsec_abc', 'ctx');
    const second = box.seal('whsec_abc', 'ctx');
    expect(first).toMatch(/^enc:v1:k1:/);
    expect(first).not.toContain('whsec_abc');
    expect(first).not.toBe(second);
    expect(box.open(first, 'ctx')).toBe('whsec_abc');
    expect(SecretBox.keyIdOf(first)).toBe('k1');
  });

  it('opens values under every configured key and seals under the first', () => {
    const k1 = key();
    const old = new SecretBox(parseKeyring(`k1:${k1}`));
    const sealedOld = old.seal('secret', 'ctx');
    const rotated = new SecretBox(parseKeyring(`k2:${key()},k1:${k1}`));
    expect(rotated.open(sealedOld, 'ctx')).toBe('secret');
    expect(rotated.needsReseal(sealedOld)).toBe(true);
    const sealedNew = rotated.seal('secret', 'ctx');
    expect(SecretBox.keyIdOf(sealedNew)).toBe('k2');
    expect(rotated.needsReseal(sealedNew)).toBe(false);
  });

  it('passes legacy plaintext through and marks it for re-sealing', () => {
    const box = new SecretBox(parseKeyring(`k1:${key()}`));
    expect(box.open('whsec_legacy', 'ctx')).toBe('whsec_legacy');
    expect(box.needsReseal('whsec_legacy')).toBe(true);
  });

  it('refuses a missing key, a wrong key, another context and altered text with a clear error', () => {
    const box = new SecretBox(parseKeyring(`k1:${key()}`));
    const sealed = box.seal('secret', 'webhook-secret:a');
    expect(() =>
      new SecretBox(parseKeyring(`k2:${key()}`)).open(sealed, 'webhook-secret:a'),
    ).toThrow(
      new SecretBoxError(
        'sealed under key "k1", which ROAM_SECRETS_KEYS does not list (configured: k2)',
      ),
    );
    expect(() =>
      new SecretBox(parseKeyring(`k1:${key()}`)).open(sealed, 'webhook-secret:a'),
    ).toThrow(/does not authenticate/);
    expect(() => box.open(sealed, 'webhook-secret:b')).toThrow(/does not authenticate/);
    const altered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => box.open(altered, 'webhook-secret:a')).toThrow(SecretBoxError);
    expect(() => box.open('enc:v1:k1:only-two', 'webhook-secret:a')).toThrow(/malformed/);
  });
});

describe('keyringFrom', () => {
  it('refuses to start in production without keys', () => {
    expect(() => keyringFrom({ NODE_ENV: 'production', DATABASE_URL: DB })).toThrow(ConfigError);
  });

  it('derives the same key in every process of one installation otherwise', () => {
    const a = keyringFrom({ NODE_ENV: 'development', DATABASE_URL: DB });
    const b = keyringFrom({ NODE_ENV: 'development', DATABASE_URL: DB });
    expect(a.derived).toBe(true);
    expect(a.primaryId).toBe(DERIVED_KEY_ID);
    expect(new SecretBox(b).open(new SecretBox(a).seal('x', 'c'), 'c')).toBe('x');
  });

  it.each([
    ['k1', /expected <id>:<base64 key>/],
    ['k1:short', /must be 32 bytes/],
    [`bad id!:${Buffer.alloc(32).toString('base64')}`, /expected <id>/],
    [
      `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}`,
      /listed twice/,
    ],
    [' , ', /no key given/],
  ])('names the problem in %s', (text, message) => {
    let error: unknown;
    try {
      keyringFrom({ NODE_ENV: 'production', DATABASE_URL: DB, ROAM_SECRETS_KEYS: text });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).message).toContain('ROAM_SECRETS_KEYS');
  });
});
