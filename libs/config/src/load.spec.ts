import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';

import { ConfigError, loadConfig } from './load.js';
import { envBoolean, gatewayEnv } from './schemas.js';

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig('gateway', gatewayEnv, {});
    expect(config.PORT).toBe(8000);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/roam');
  });

  it('names every bad key at once', () => {
    let error: unknown;
    try {
      loadConfig('gateway', gatewayEnv, {
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).issues.map((issue) => issue.key).sort();
    expect(keys).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect((error as ConfigError).message).toContain('PORT');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig('gateway', gatewayEnv, { PORT: '' }).PORT).toBe(8000);
  });

  it('ignores keys the schema does not know', () => {
    expect(() => loadConfig('x', z.object({}), { WHATEVER: '1' })).not.toThrow();
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['1', true],
    ['no', false],
  ])('reads %s as boolean %s', (text, value) => {
    expect(envBoolean.parse(text)).toBe(value);
  });

  it('rejects a boolean it cannot read', () => {
    expect(envBoolean.safeParse('maybe').success).toBe(false);
  });
});
