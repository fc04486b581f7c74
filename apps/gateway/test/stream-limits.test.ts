import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { ADMIN_TOKEN, call, type Harness, startHarness } from '../../../test/support/harness.js';
import { placeJob, readyTenant, reader, sseMessages } from '../../../test/support/job-fixtures.js';

const open = (url: string, key: string) => {
  const controller = new AbortController();
  const response = fetch(url, {
    headers: { authorization: `Bearer ${key}` },
    signal: controller.signal,
  });
  return { response, close: () => controller.abort() };
};

describe('open streams per tenant', () => {
  let h: Harness;
  let key: string;
  let jobId: string;

  beforeAll(async () => {
    h = await startHarness('stream_limits', {
      STREAMS_PER_TENANT: '4',
      STREAM_KEY_CHECK_SECONDS: '1',
      LOGS_FOLLOW_START_WAIT_MS: '0',
    });
    key = await readyTenant(h, 'streamer');
    await readyTenant(h, 'streamer-b');
    ({ id: jobId } = await placeJob(h, 'streamer', 'echo started; sleep 1000000; echo never'));
  });

  afterAll(async () => {
    await h?.close();
  });

  /** A second key of `tenant`, with its id (to revoke it). */
  const newKey = async (tenant: string, as: string) => {
    const issued = await call(h.url, 'POST', `/api/v1/tenants/${tenant}/keys`, { name: 'x' }, as);
    expect(issued.status).toBe(201);
    return { id: issued.body.id as string, key: issued.body.api_key as string };
  };

  it('refuses the stream beyond STREAMS_PER_TENANT with 429 and Retry-After, whatever its kind', async () => {
    const streams = [
      open(`${h.url}/api/v1/events/stream`, key),
      open(`${h.url}/api/v1/events/stream?type=job.*`, key),
      open(`${h.url}/api/v1/jobs/${jobId}/logs?follow=true`, key),
      open(`${h.url}/jobs/${jobId}/logs/stream`, key),
    ];
    try {
      for (const stream of streams) expect((await stream.response).status).toBe(200);
      for (const path of [
        '/api/v1/events/stream',
        `/api/v1/jobs/${jobId}/logs/stream`,
        `/api/v1/jobs/${jobId}/logs?follow=true`,
        `/jobs/${jobId}/logs/stream`,
      ]) {
        const refused = await call(h.url, 'GET', path, undefined, key);
        expect(refused.status).toBe(429);
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(refused.body.detail).toMatch(/STREAMS_PER_TENANT=4/);
      }
      // A plain log read is not a stream, and another tenant has its own allowance.
      expect((await call(h.url, 'GET', `/api/v1/jobs/${jobId}/logs`, undefined, key)).status).toBe(
        200,
      );
      const otherKey = (await newKey('streamer-b', ADMIN_TOKEN)).key;
      const other = open(`${h.url}/api/v1/events/stream`, otherKey);
      expect((await other.response).status).toBe(200);
      other.close();
    } finally {
      for (const stream of streams) stream.close();
    }
    // Closed streams give their slots back.
    await eventually('a slot to be free again', async () => {
      const again = open(`${h.url}/api/v1/events/stream`, key);
      const status = (await again.response).status;
      again.close();
      return status === 200;
    });
  });

  it('revoking a key ends its open SSE and log follows with a last word saying why', async () => {
    const revoked = await newKey('streamer', key);
    const events = await fetch(`${h.url}/api/v1/events/stream`, {
      headers: { authorization: `Bearer ${revoked.key}` },
    });
    const follow = await fetch(`${h.url}/api/v1/jobs/${jobId}/logs?follow=true`, {
      headers: { authorization: `Bearer ${revoked.key}` },
    });
    const sse = await fetch(`${h.url}/jobs/${jobId}/logs/stream`, {
      headers: { authorization: `Bearer ${revoked.key}` },
    });
    const kept = open(`${h.url}/api/v1/jobs/${jobId}/logs?follow=true`, key);
    try {
      for (const response of [events, follow, sse]) expect(response.status).toBe(200);
      const followBody = reader(follow);
      const sseBody = reader(sse);
      await followBody.readUntil((text) => text.includes('started\n'));
      await sseBody.readUntil((text) => text.includes('data: started'));

      const revoke = await call(
        h.url,
        'DELETE',
        `/api/v1/tenants/streamer/keys/${revoked.id}`,
        undefined,
        key,
      );
      expect(revoke.status).toBe(204);

      const eventsText = await reader(events).readToEnd();
      expect(sseMessages(eventsText).at(-1)).toEqual({
        event: 'closed',
        data: JSON.stringify({ reason: 'unauthorized', detail: 'invalid or revoked API key' }),
      });
      expect(await followBody.readToEnd()).toBe(
        'started\n[roam] log stream closed: invalid or revoked API key\n',
      );
      const messages = sseMessages(await sseBody.readToEnd());
      expect(messages.at(-1)?.event).toBe('closed');
      expect(JSON.parse(messages.at(-1)!.data)).toMatchObject({
        detail: 'invalid or revoked API key',
      });
      expect(messages.some((message) => message.event === 'end')).toBe(false);
      // The caller's other key keeps its stream.
      expect((await kept.response).status).toBe(200);
      const keptBody = reader(await kept.response);
      await keptBody.readUntil((text) => text.includes('started\n'));
      expect(keptBody.done).toBe(false);
    } finally {
      kept.close();
    }
  });

  it('a key revoked through another gateway replica ends the streams here within the check interval', async () => {
    const other = await h.gateway({ STREAMS_PER_TENANT: '3', STREAM_KEY_CHECK_SECONDS: '1' });
    const revoked = await newKey('streamer', key);
    const events = await fetch(`${other.url}/api/v1/events/stream`, {
      headers: { authorization: `Bearer ${revoked.key}` },
    });
    expect(events.status).toBe(200);
    const revoke = await call(
      h.url,
      'DELETE',
      `/api/v1/tenants/streamer/keys/${revoked.id}`,
      undefined,
      key,
    );
    expect(revoke.status).toBe(204);
    const messages = sseMessages(await reader(events).readToEnd());
    expect(messages.at(-1)?.event).toBe('closed');
  });

  it('deleting a tenant ends its streams', async () => {
    const goneKey = await readyTenant(h, 'streamer-gone');
    const events = await fetch(`${h.url}/api/v1/events/stream`, {
      headers: { authorization: `Bearer ${goneKey}` },
    });
    expect(events.status).toBe(200);
    const deleted = await call(
      h.url,
      'DELETE',
      '/api/v1/tenants/streamer-gone',
      undefined,
      ADMIN_TOKEN,
    );
    expect(deleted.status).toBe(202);
    const messages = sseMessages(await reader(events).readToEnd());
    expect(messages.at(-1)).toEqual({
      event: 'closed',
      data: JSON.stringify({
        reason: 'unauthorized',
        detail: 'the tenant of this key is being deleted',
      }),
    });
  });
});
