import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { renderKubeconfig } from '@roam/sim';

import { KubeError } from '../src/errors.js';
import { Kube, type KubeClientOptions } from '../src/index.js';
import { KubeTimeoutError, TokenBucket } from '../src/throttle.js';

/** What the test server does with the n-th request it gets (0-based). */
type Answer = (request: http.IncomingMessage, response: http.ServerResponse, n: number) => void;

const configMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'default' },
  data: { a: 'b' },
};

const discovery = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'v1',
  resources: [
    { name: 'configmaps', singularName: '', namespaced: true, kind: 'ConfigMap', verbs: [] },
  ],
};

const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: 'default' };

/** Answers with the ConfigMap. */
const answerConfigMap = (response: http.ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(configMap));
};

const status = (code: number, reason: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });

describe('Kube client against a misbehaving API server', () => {
  let dir: string;
  let server: http.Server;
  let answer: Answer;
  let seen: { method: string; url: string; at: number }[];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roam-kube-resilience-'));
    server = http.createServer((request, response) => {
      // client-node looks a kind's resource up once per client; that is not under test.
      if (request.url === '/api/v1') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(discovery));
        return;
      }
      seen.push({ method: request.method!, url: request.url!, at: performance.now() });
      request.resume();
      request.on('end', () => answer(request, response, seen.length - 1));
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await writeFile(join(dir, 'kubeconfig'), renderKubeconfig(`http://127.0.0.1:${port}`));
  });

  afterEach(() => {
    // Stalled answers keep their sockets open: close them so each test starts clean.
    for (const socket of sockets) socket.destroy();
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const kube = (options: Partial<KubeClientOptions> = {}) => {
    seen = [];
    return Kube.fromKubeconfig(join(dir, 'kubeconfig'), 'roam-test', options);
  };

  it('waits out a 429 for its Retry-After, then creates', async () => {
    answer = (_request, response, n) => {
      if (n === 0) {
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        response.end(status(429, 'TooManyRequests'));
      } else {
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(JSON.stringify(configMap));
      }
    };
    const created = await kube().create(configMap);
    expect(created.metadata?.name).toBe('cm');
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST']);
    // Retry-After: 1 means the second attempt may not leave before a second has passed.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after its retries with the 429, and never retries a refusal', async () => {
    answer = (_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
      response.end(status(429, 'TooManyRequests'));
    };
    const client = kube({ retries: 2 });
    const error = await client.create(configMap).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).status).toBe(429);
    expect(seen).toHaveLength(3);

    answer = (_request, response) => {
      response.writeHead(422, { 'content-type': 'application/json' });
      response.end(status(422, 'Invalid'));
    };
    seen = [];
    const invalid = await client.create(configMap).catch((e: unknown) => e);
    expect((invalid as KubeError).reason).toBe('Invalid');
    expect(seen).toHaveLength(1);
  });

  it('retries a 503 and a dropped connection', async () => {
    answer = (request, response, n) => {
      if (n === 0) {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(status(503, 'ServiceUnavailable'));
      } else if (n === 1) request.socket.destroy();
      else {
        answerConfigMap(response);
      }
    };
    const read = await kube().get(cmRef);
    expect(read?.metadata?.name).toBe('cm');
    expect(seen).toHaveLength(3);
  });

  it('retries an answer whose connection closes halfway through its body', async () => {
    answer = (request, response, n) => {
      if (n === 0) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"apiVersion":"v1",', () => request.socket.destroy());
      } else {
        answerConfigMap(response);
      }
    };
    const read = await kube().get(cmRef);
    expect(read?.metadata?.name).toBe('cm');
    expect(seen).toHaveLength(2);
  });

  it('fails a call the server never answers with a timeout, retrying it first', async () => {
    answer = () => {};
    // Long enough that the server, in this process, has read both requests before the client
    // gives up on them, even on a busy machine.
    const error = await kube({ requestTimeoutMs: 1000, retries: 1 })
      .get(cmRef)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeTimeoutError);
    expect(seen).toHaveLength(2);
  });

  it('fails a call whose answer stalls halfway through its body', async () => {
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"apiVersion":"v1",');
    };
    const error = await kube({ requestTimeoutMs: 200, retries: 0 })
      .get(cmRef)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeTimeoutError);
  });

  it('reads a log whole, and fails one whose stream stalls or drops instead of hanging', async () => {
    answer = (request, response) => {
      expect(request.url).toBe('/api/v1/namespaces/ns/pods/p/log?container=main&tailLines=10');
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('line one\n');
      response.end('line two\n');
    };
    const client = kube({ logIdleTimeoutMs: 200, retries: 0 });
    expect(await client.logs('ns', 'p', { container: 'main', tailLines: 10 })).toBe(
      'line one\nline two\n',
    );

    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('line one\n');
    };
    await expect(client.logs('ns', 'p')).rejects.toBeInstanceOf(KubeTimeoutError);

    answer = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('line one\n', () => request.socket.destroy());
    };
    await expect(client.logs('ns', 'p')).rejects.toThrow(/closed|aborted|socket hang up/);
  });

  it('keeps an informer watching through a dropped watch and a refused one', async () => {
    const watches: number[] = [];
    answer = (request, response, n) => {
      if (!request.url!.includes('watch=true')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            kind: 'ConfigMapList',
            metadata: { resourceVersion: '1' },
            items: [configMap],
          }),
        );
        return;
      }
      watches.push(n);
      // The first watch is cut (as an API server restart does), the second refused with a 500:
      // each is an error, after which the client's own informer would stop for good.
      if (watches.length === 1) request.socket.destroy();
      else if (watches.length === 2) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(status(500, 'InternalError'));
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        const later = {
          ...configMap,
          metadata: { ...configMap.metadata, name: 'cm2', resourceVersion: '2' },
        };
        response.write(`${JSON.stringify({ type: 'ADDED', object: later })}\n`);
      }
    };
    const informer = kube().informer<typeof configMap>('/api/v1/configmaps', 'v1', 'ConfigMap');
    const added = new Promise<string>((resolve) =>
      informer.on('add', (object) => {
        if (object.metadata.name === 'cm2') resolve(object.metadata.name);
      }),
    );
    try {
      await informer.start();
      expect(await added).toBe('cm2');
      expect(
        informer
          .list()
          .map((object) => object.metadata.name)
          .sort(),
      ).toEqual(['cm', 'cm2']);
      expect(watches).toHaveLength(3);
    } finally {
      await informer.stop();
    }
  });

  it('reads events split across chunks, resumes from a bookmark and re-lists after a 410', async () => {
    const watchUrls: URL[] = [];
    let lists = 0;
    let third!: () => void;
    const watchingAgain = new Promise<void>((resolve) => (third = resolve));
    const named = (name: string, resourceVersion: string, data = configMap.data) => ({
      ...configMap,
      metadata: { ...configMap.metadata, name, resourceVersion },
      data,
    });
    answer = (request, response) => {
      const url = new URL(request.url!, 'http://x');
      if (url.searchParams.get('watch') !== 'true') {
        lists += 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            kind: 'ConfigMapList',
            metadata: { resourceVersion: lists === 1 ? '1' : '5' },
            items: lists === 1 ? [configMap] : [configMap, named('cm3', '5')],
          }),
        );
        return;
      }
      watchUrls.push(url);
      response.writeHead(200, { 'content-type': 'application/json' });
      if (watchUrls.length === 1) {
        // One event cut inside a two-byte character, then a bookmark; then the server ends it.
        const event = Buffer.from(
          `${JSON.stringify({ type: 'ADDED', object: named('cm2', '2', { a: 'é' }) })}\n`,
        );
        const cut = event.indexOf(Buffer.from('é')) + 1;
        const bookmark = { type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } };
        response.write(event.subarray(0, cut), () =>
          response.end(
            Buffer.concat([event.subarray(cut), Buffer.from(`${JSON.stringify(bookmark)}\n`)]),
          ),
        );
      } else if (watchUrls.length === 2) {
        // The version expired: an ERROR event, the connection left open (the client ends it).
        response.write(
          `${JSON.stringify({ type: 'ERROR', object: JSON.parse(status(410, 'Expired')) })}\n`,
        );
      } else third();
    };
    const informer = kube().informer<typeof configMap>('/api/v1/configmaps', 'v1', 'ConfigMap');
    const seenData: Record<string, string>[] = [];
    informer.on('add', (object) => {
      if (object.metadata.name === 'cm2') seenData.push(object.data);
    });
    try {
      await informer.start();
      await watchingAgain;
      expect(seenData).toEqual([{ a: 'é' }]);
      expect(watchUrls.map((url) => url.searchParams.get('allowWatchBookmarks'))).toEqual([
        'true',
        'true',
        'true',
      ]);
      // From the list, from the bookmark, and from the list after the 410.
      expect(watchUrls.map((url) => url.searchParams.get('resourceVersion'))).toEqual([
        '1',
        '3',
        '5',
      ]);
      expect(lists).toBe(2);
      // The re-list dropped what the expired watch had added.
      expect(
        informer
          .list()
          .map((object) => object.metadata.name)
          .sort(),
      ).toEqual(['cm', 'cm3']);
    } finally {
      await informer.stop();
    }
  });

  it('is not synced after a failed first list, and is once a list has filled the cache', async () => {
    let watched!: () => void;
    const watching = new Promise<void>((resolve) => (watched = resolve));
    let lists = 0;
    answer = (request, response) => {
      if (request.url!.includes('watch=true')) {
        // Held open: the informer is watching.
        response.writeHead(200, { 'content-type': 'application/json' });
        watched();
        return;
      }
      lists += 1;
      if (lists === 1) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(status(500, 'InternalError'));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          kind: 'ConfigMapList',
          metadata: { resourceVersion: '1' },
          items: [configMap],
        }),
      );
    };
    const informer = kube({ retries: 0 }).informer<typeof configMap>(
      '/api/v1/configmaps',
      'v1',
      'ConfigMap',
    );
    try {
      // start() resolves although the list failed: the empty cache means "not known yet".
      await informer.start();
      expect(lists).toBe(1);
      expect(informer.hasSynced()).toBe(false);
      expect(informer.list()).toEqual([]);
      // The informer lists again on its own; it watches only after that list filled the cache.
      await watching;
      expect(lists).toBe(2);
      expect(informer.hasSynced()).toBe(true);
      expect(informer.list().map((object) => object.metadata.name)).toEqual(['cm']);
    } finally {
      await informer.stop();
    }
  });

  it('answers a log request for a missing pod with the API error', async () => {
    answer = (_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(status(404, 'NotFound'));
    };
    const error = await kube({ retries: 0 })
      .logs('ns', 'gone')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).reason).toBe('NotFound');
  });
});

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces requests by 1/qps', () => {
    const bucket = new TokenBucket(10, 3);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    const fourth = bucket.reserve();
    const fifth = bucket.reserve();
    expect(fourth).toBeGreaterThan(0);
    expect(fourth).toBeLessThanOrEqual(100);
    expect(fifth).toBeGreaterThan(fourth);
    expect(fifth).toBeLessThanOrEqual(200);
  });

  it('never waits with qps 0 (no client-side limit)', () => {
    const bucket = new TokenBucket(0, 1);
    expect(Array.from({ length: 5 }, () => bucket.reserve())).toEqual([0, 0, 0, 0, 0]);
  });
});
