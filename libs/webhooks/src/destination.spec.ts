import { describe, expect, it } from '@jest/globals';

import {
  addressRefusal,
  checkWebhookUrl,
  parseDestinationPolicy,
  resolveDestination,
} from './destination.js';

describe('webhook destinations', () => {
  const none = parseDestinationPolicy('');

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '::127.0.0.1',
    '::a9fe:a9fe',
    '0:0:0:0:0:ffff:10.0.0.1',
    '::ffff:0:127.0.0.1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a00:1',
    '64:ff9b:1::8.8.8.8',
    '64:ff9b:1:ffff::1',
    '2002:7f00:1::',
    '2002:a9fe:a9fe:1::1',
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    'fec0::1',
    'feff::1',
  ])('refuses %s by default', (address) => {
    expect(addressRefusal(address, none)).toBeDefined();
  });

  it.each([
    '93.184.216.34',
    '2606:4700::1111',
    '8.8.8.8',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('accepts public %s', (address) => {
    expect(addressRefusal(address, none)).toBeUndefined();
  });

  it('lets the allow-list open subnets and hostnames', async () => {
    const policy = parseDestinationPolicy('127.0.0.0/8, internal.example');
    expect(addressRefusal('127.0.0.1', policy)).toBeUndefined();
    expect(addressRefusal('10.0.0.1', policy)).toBeDefined();
    await expect(
      resolveDestination('internal.example', policy, () =>
        Promise.resolve([{ address: '10.0.0.5', family: 4 }]),
      ),
    ).resolves.toEqual([{ address: '10.0.0.5', family: 4 }]);
  });

  it('refuses a name when any of its addresses is private (rebinding-style answers)', async () => {
    await expect(
      resolveDestination('evil.example', none, () =>
        Promise.resolve([
          { address: '93.184.216.34', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]),
      ),
    ).rejects.toThrow(/private/);
  });

  it.each([
    ['ftp://example.com/x', /http or https/],
    ['not a url', /valid absolute URL/],
    ['http://user:pw@example.com/', /credentials/],
    ['http://localhost:8080/hook', /private/],
    ['http://[::127.0.0.1]/hook', /private/],
    ['http://[2002:7f00:1::]/hook', /private/],
    ['http://[::1]/hook', /private/],
    ['http://metadata.google.internal/computeMetadata', /metadata/],
  ])('refuses %s at registration', async (url, message) => {
    await expect(checkWebhookUrl(url, none)).rejects.toThrow(message);
  });

  it('rejects a malformed allow-list entry', () => {
    expect(() => parseDestinationPolicy('10.0.0.0/40')).toThrow(/prefix/);
    expect(() => parseDestinationPolicy('host.example/8')).toThrow(/CIDR/);
  });
});
