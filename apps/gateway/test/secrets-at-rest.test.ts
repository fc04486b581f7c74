import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseKeyring, SecretBox } from '@roam/config';
import type { RoamApp } from '@roam/runtime';
import { webhookSecretContext } from '@roam/webhooks';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { SecretsReseal } from '../src/webhooks/secrets-reseal.js';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');

/** POST with an Idempotency-Key. */
async function post(
  base: string,
  path: string,
  body: unknown,
  key: string,
  idempotencyKey: string,
) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    replayed: response.headers.get('idempotency-replayed') === 'true',
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('secrets at rest', () => {
  let h: Harness;
  let key: string;
  let webhookId: string;
  let webhookSecret: string;

  /** Every stored text of the two tables that hold secrets, as the database returns it. */
  const rawRows = async () =>
    h.prisma.$queryRaw<{ text: string }[]>`
      SELECT t::text AS text FROM webhook_endpoints t
      UNION ALL SELECT t::text FROM idempotency_keys t`;
  const rawSecrets = () =>
    h.prisma.$queryRaw<{ id: string; secret: string; previous: string | null }[]>`
      SELECT id, secret, previous_secret AS previous FROM webhook_endpoints ORDER BY id`;
  const rawResponses = () =>
    h.prisma.$queryRaw<{ key: string; sealed: string | null }[]>`
      SELECT key, response_body ->> '$sealed' AS sealed FROM idempotency_keys
      WHERE response_status IS NOT NULL ORDER BY key`;

  beforeAll(async () => {
    h = await startHarness('gateway_secrets', {
      ROAM_SECRETS_KEYS: `k1:${K1}`,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32',
      // Passes run when the test says so (the first one at boot finds nothing to do).
      SECRETS_RESEAL_INTERVAL_MS: '3600000',
    });
    key = await register(h.url, 'vault');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('stores webhook secrets and new API keys sealed, and replays them as first returned', async () => {
    const created = await post(
      h.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: [] },
      key,
      'create-hook',
    );
    expect(created.status).toBe(201);
    webhookId = created.body.id as string;
    webhookSecret = created.body.secret as string;
    expect(webhookSecret).toMatch(/^whsec_/);

    const replay = await post(
      h.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: [] },
      key,
      'create-hook',
    );
    expect(replay).toMatchObject({ status: 201, replayed: true });
    expect(replay.body.secret).toBe(webhookSecret);

    const rotated = await post(
      h.url,
      `/api/v1/webhooks/${webhookId}/rotate-secret`,
      { grace_hours: 1 },
      key,
      'rotate-hook',
    );
    expect(rotated.status).toBe(200);
    const issued = await post(h.url, '/api/v1/tenants/vault/keys', { name: 'ci' }, key, 'new-key');
    expect(issued.status).toBe(201);
    const again = await post(h.url, '/api/v1/tenants/vault/keys', { name: 'ci' }, key, 'new-key');
    expect(again).toMatchObject({ status: 201, replayed: true });
    expect(again.body.api_key).toBe(issued.body.api_key);

    const plain = [webhookSecret, rotated.body.secret as string, issued.body.api_key as string];
    for (const row of await rawRows()) {
      for (const secret of plain) expect(row.text).not.toContain(secret);
    }
    const [stored] = await rawSecrets();
    expect(stored!.secret).toMatch(/^enc:v1:k1:/);
    expect(stored!.previous).toMatch(/^enc:v1:k1:/);
    const box = new SecretBox(parseKeyring(`k1:${K1}`));
    expect(box.open(stored!.secret, webhookSecretContext(webhookId))).toBe(rotated.body.secret);
    expect(box.open(stored!.previous!, webhookSecretContext(webhookId))).toBe(webhookSecret);
    for (const row of await rawResponses()) expect(row.sealed).toMatch(/^enc:v1:k1:/);
  });

  it('rotates keys: old-key and plaintext rows keep working, then the pass re-seals them', async () => {
    // A row from before encryption: a webhook secret and a stored response in clear.
    const legacy = await post(
      h.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/legacy', events: [] },
      key,
      'legacy-hook',
    );
    const legacySecret = 'whsec_bGVnYWN5LXNlY3JldC1mcm9tLWJlZm9yZS1lbmNyeXB0aW9u';
    await h.prisma.$executeRaw`
      UPDATE webhook_endpoints SET secret = ${legacySecret} WHERE id = ${legacy.body.id as string}::uuid`;
    const legacyBody = { ...legacy.body, secret: legacySecret };
    await h.prisma.$executeRaw`
      UPDATE idempotency_keys SET response_body = ${JSON.stringify(legacyBody)}::jsonb
      WHERE key = 'legacy-hook'`;

    // Step 2 of a rotation: the new key first, the old one still listed.
    const rotating: RoamApp<unknown> = await h.gateway({ ROAM_SECRETS_KEYS: `k2:${K2},k1:${K1}` });
    const replayOld = await post(
      rotating.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: [] },
      key,
      'create-hook',
    );
    expect(replayOld.body.secret).toBe(webhookSecret);
    const replayLegacy = await post(
      rotating.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/legacy', events: [] },
      key,
      'legacy-hook',
    );
    expect(replayLegacy.body.secret).toBe(legacySecret);

    // The new gateway's first pass starts at boot; one more pass is a no-op once it is done.
    const reseal = rotating.app.get(SecretsReseal);
    expect((await reseal.pass()).unreadable).toBe(0);
    expect(await reseal.pass()).toEqual({ resealed: 0, unreadable: 0 });
    for (const row of await rawSecrets()) {
      expect(row.secret).toMatch(/^enc:v1:k2:/);
      if (row.previous !== null) expect(row.previous).toMatch(/^enc:v1:k2:/);
    }
    for (const row of await rawResponses()) expect(row.sealed).toMatch(/^enc:v1:k2:/);
    for (const row of await rawRows()) expect(row.text).not.toContain(legacySecret);
    const newOnly = new SecretBox(parseKeyring(`k2:${K2}`));
    const legacyRow = (await rawSecrets()).find((row) => row.id === legacy.body.id)!;
    expect(newOnly.open(legacyRow.secret, webhookSecretContext(legacyRow.id))).toBe(legacySecret);

    // Step 4: the old key is gone; everything still opens.
    const rotated = await h.gateway({ ROAM_SECRETS_KEYS: `k2:${K2}` });
    const replayAfter = await post(
      rotated.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/legacy', events: [] },
      key,
      'legacy-hook',
    );
    expect(replayAfter).toMatchObject({ status: 201, replayed: true });
    expect(replayAfter.body.secret).toBe(legacySecret);
  });

  it('fails clearly, and changes nothing, when the key of a stored value is not configured', async () => {
    const before = await rawSecrets();
    const wrong = await h.gateway({
      ROAM_SECRETS_KEYS: `k3:${randomBytes(32).toString('base64')}`,
    });
    const replay = await post(
      wrong.url,
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: [] },
      key,
      'create-hook',
    );
    expect(replay.status).toBe(500);
    expect(replay.body.detail).toMatch(/cannot be read back; use a new key/);
    expect(JSON.stringify(replay.body)).not.toContain('whsec_');

    const outcome = await wrong.app.get(SecretsReseal).pass();
    expect(outcome.resealed).toBe(0);
    expect(outcome.unreadable).toBeGreaterThan(0);
    expect(await rawSecrets()).toEqual(before);
    // The other endpoints of the same gateway still work.
    expect((await call(wrong.url, 'GET', '/api/v1/webhooks', undefined, key)).status).toBe(200);
  });
});
