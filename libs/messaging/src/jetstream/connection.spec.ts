import { describe, expect, it } from '@jest/globals';

import { connectionOptionsOf } from './connection.js';
import { resolveOptions } from './options.js';

const base = { servers: 'nats://nats:4222', name: 'scheduler' };

describe('connectionOptionsOf', () => {
  it('connects anonymously without TLS when nothing is set, on a private inbox', () => {
    const options = connectionOptionsOf(resolveOptions(base));
    expect(options).toEqual({
      servers: ['nats://nats:4222'],
      name: 'scheduler',
      maxReconnectAttempts: -1,
      inboxPrefix: '_INBOX_scheduler',
      noAsyncTraces: true,
    });
  });

  it('passes a user and password', () => {
    const options = connectionOptionsOf(
      resolveOptions({ ...base, credentials: { user: 'scheduler', password: 's3cret' } }),
    );
    expect(options.user).toBe('scheduler');
    expect(options.pass).toBe('s3cret');
    expect(options.authenticator).toBeUndefined();
  });

  it('passes an nkey seed as an authenticator', () => {
    const seed = 'SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU';
    const options = connectionOptionsOf(
      resolveOptions({ ...base, credentials: { nkeySeed: seed } }),
    );
    expect(typeof options.authenticator).toBe('function');
    expect(options.user).toBeUndefined();
  });

  it('passes the TLS files', () => {
    const tls = { caFile: '/tls/ca.pem', certFile: '/tls/client.pem', keyFile: '/tls/client.key' };
    expect(connectionOptionsOf(resolveOptions({ ...base, tls })).tls).toEqual(tls);
    expect(connectionOptionsOf(resolveOptions({ ...base, tls: { caFile: '/ca' } })).tls).toEqual({
      caFile: '/ca',
    });
  });
});
