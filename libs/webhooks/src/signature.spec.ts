import { describe, expect, it } from '@jest/globals';

import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  webhookHeaders,
} from './signature.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const nowSeconds = Math.floor(NOW / 1000);
const body = JSON.stringify({ id: 'e1', type: 'roam.evt.v1.job.succeeded', data: { ok: true } });

function signed(secrets: string[], overrides: { timestamp?: number; id?: string } = {}) {
  return webhookHeaders(secrets, {
    id: overrides.id ?? 'msg_1',
    timestamp: overrides.timestamp ?? nowSeconds,
    body,
  });
}

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('signWebhook / verifyWebhook', () => {
  const secret = generateWebhookSecret();

  it('generates whsec_ secrets of at least 24 random bytes, each different', () => {
    const other = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(other).not.toBe(secret);
  });

  it('round-trips: what is signed verifies and returns the parsed body', () => {
    expect(verifyWebhook(secret, signed([secret]), body, { now: NOW })).toEqual(JSON.parse(body));
    // Buffers and fetch Headers work too.
    const headers = new Headers(signed([secret]));
    expect(verifyWebhook(secret, headers, Buffer.from(body), { now: NOW })).toEqual(
      JSON.parse(body),
    );
  });

  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's test suite.
    const reference = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', {
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
    });
    expect(reference).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it.each([
    [
      'a forged signature',
      (h: Record<string, string>) => ({
        ...h,
        'webhook-signature': 'v1,Zm9yZ2VkIHNpZ25hdHVyZSBvZiAzMiBieXRlcyEhISEh',
      }),
      body,
      'invalid-signature',
    ],
    [
      'another version tag',
      (h: Record<string, string>) => ({
        ...h,
        'webhook-signature': h['webhook-signature']!.replace('v1,', 'v2,'),
      }),
      body,
      'invalid-signature',
    ],
    [
      'a tampered body',
      (h: Record<string, string>) => h,
      body.replace('true', 'false'),
      'invalid-signature',
    ],
    [
      'a changed id',
      (h: Record<string, string>) => ({ ...h, 'webhook-id': 'msg_2' }),
      body,
      'invalid-signature',
    ],
    [
      'a missing signature header',
      (h: Record<string, string>) => ({ ...h, 'webhook-signature': '' }),
      body,
      'missing-headers',
    ],
    [
      'a non-numeric timestamp',
      (h: Record<string, string>) => ({ ...h, 'webhook-timestamp': 'soon' }),
      body,
      'invalid-timestamp',
    ],
  ])('rejects %s', (_name, mutate, received, reason) => {
    expect(
      reasonOf(() => verifyWebhook(secret, mutate(signed([secret])), received, { now: NOW })),
    ).toBe(reason);
  });

  it('rejects a signature made with another secret', () => {
    const wrong = generateWebhookSecret();
    expect(reasonOf(() => verifyWebhook(secret, signed([wrong]), body, { now: NOW }))).toBe(
      'invalid-signature',
    );
  });

  it('rejects a timestamp 6 minutes old or 6 minutes ahead (replay), accepts 4 minutes', () => {
    const old = signed([secret], { timestamp: nowSeconds - 360 });
    const ahead = signed([secret], { timestamp: nowSeconds + 360 });
    const recent = signed([secret], { timestamp: nowSeconds - 240 });
    expect(reasonOf(() => verifyWebhook(secret, old, body, { now: NOW }))).toBe(
      'timestamp-too-old',
    );
    expect(reasonOf(() => verifyWebhook(secret, ahead, body, { now: NOW }))).toBe(
      'timestamp-too-new',
    );
    expect(reasonOf(() => verifyWebhook(secret, recent, body, { now: NOW }))).toBe('accepted');
  });

  it('accepts either secret during a rotation (two signatures), and neither other one', () => {
    const next = generateWebhookSecret();
    const headers = signed([next, secret]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(reasonOf(() => verifyWebhook(secret, headers, body, { now: NOW }))).toBe('accepted');
    expect(reasonOf(() => verifyWebhook(next, headers, body, { now: NOW }))).toBe('accepted');
    expect(
      reasonOf(() => verifyWebhook(generateWebhookSecret(), headers, body, { now: NOW })),
    ).toBe('invalid-signature');
  });
});
