import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseDestinationPolicy } from '@roam/webhooks';

import { HttpWebhookSender, RESPONSE_BODY_LIMIT } from './sender.js';

describe('HttpWebhookSender', () => {
  let server: http.Server;
  let url: string;
  const sender = new HttpWebhookSender(parseDestinationPolicy('127.0.0.1/32'), 10_000);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        // A long answer of multi-byte characters: only its start is kept.
        res.end(req.url === '/long' ? 'é€😀'.repeat(50_000) : 'ok\u0000then\u0000more'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    sender.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps a response body Postgres can store: NUL characters dropped', async () => {
    const response = await sender.send({ url, headers: {}, body: '{}' });
    expect(response).toMatchObject({ statusCode: 200, body: 'okthenmore' });
  });

  it('keeps the first RESPONSE_BODY_LIMIT characters of a long answer, whole', async () => {
    const response = await sender.send({
      url: url.replace('/hook', '/long'),
      headers: {},
      body: '{}',
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('é€😀'.repeat(50_000).slice(0, RESPONSE_BODY_LIMIT));
  });
});
