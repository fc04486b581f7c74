import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseDestinationPolicy } from '@roam/webhooks';

import { HttpWebhookSender } from './sender.js';

describe('HttpWebhookSender', () => {
  let server: http.Server;
  let url: string;
  const sender = new HttpWebhookSender(parseDestinationPolicy('127.0.0.1/32'), 10_000);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok\u0000then\u0000more'));
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
});
