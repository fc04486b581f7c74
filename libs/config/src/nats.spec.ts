import { describe, expect, it } from '@jest/globals';

import { ConfigError } from './load.js';
import { natsConnectionSettings } from './nats.js';

describe('natsConnectionSettings', () => {
  it('is anonymous and plain when nothing is set', () => {
    expect(natsConnectionSettings('scheduler', {})).toEqual({});
  });

  it('maps user, password and TLS files', () => {
    expect(
      natsConnectionSettings('scheduler', {
        NATS_USER: 'scheduler',
        NATS_PASSWORD: 'pw',
        NATS_TLS_CA: '/tls/ca.pem',
        NATS_TLS_CERT: '/tls/c.pem',
        NATS_TLS_KEY: '/tls/c.key',
      }),
    ).toEqual({
      credentials: { user: 'scheduler', password: 'pw' },
      tls: { caFile: '/tls/ca.pem', certFile: '/tls/c.pem', keyFile: '/tls/c.key' },
    });
    expect(natsConnectionSettings('x', { NATS_CREDS: '/c/app.creds' })).toEqual({
      credentials: { credsFile: '/c/app.creds' },
    });
  });

  it.each([
    [{ NATS_USER: 'a' }, 'NATS_PASSWORD'],
    [{ NATS_PASSWORD: 'a' }, 'NATS_PASSWORD'],
    [{ NATS_USER: 'a', NATS_PASSWORD: 'b', NATS_CREDS: '/c' }, 'NATS_USER'],
    [{ NATS_TLS_CERT: '/c' }, 'NATS_TLS_CERT'],
  ])('refuses %j', (env, key) => {
    expect(() => natsConnectionSettings('scheduler', env)).toThrow(ConfigError);
    try {
      natsConnectionSettings('scheduler', env);
    } catch (error) {
      expect((error as ConfigError).issues.map((i) => i.key)).toContain(key);
    }
  });
});
