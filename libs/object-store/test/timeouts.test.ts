import { createServer, type Server, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { MinioObjectStore, ObjectStoreTimeout } from '../src/index.js';

/** Accepts connections and never answers: the store a hung S3 endpoint looks like. */
let stalled: Server;
let endpoint: string;
const sockets = new Set<Socket>();
let connections = 0;

beforeAll(async () => {
  stalled = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const address = stalled.address() as { port: number };
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => stalled.close(() => resolve()));
});

const store = (attempts: number) =>
  new MinioObjectStore({
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_BUCKET: 'stalled',
    S3_ACCESS_KEY: 'key',
    S3_SECRET_KEY: 'secret',
    S3_PATH_STYLE: true,
    S3_TIMEOUT_MS: 200,
    S3_ATTEMPTS: attempts,
  });

describe('object store against an endpoint that never answers', () => {
  it('fails a stat with a timeout error naming the request, after its attempts', async () => {
    const before = connections;
    const error = await store(2)
      .stat('results/job/file.txt')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(ObjectStoreTimeout);
    expect((error as Error).message).toMatch(
      /object store HEAD \/stalled\/results\/job\/file\.txt: no answer within 200 ms/,
    );
    expect(connections - before).toBe(2);
  });

  it('fails get, list, put and ensureBucket the same way instead of hanging', async () => {
    const s = store(1);
    await expect(s.get('k')).rejects.toThrow(/no answer within 200 ms/);
    await expect(s.list('p/')).rejects.toThrow(/no answer within 200 ms/);
    await expect(s.put('k', Buffer.from('x'), 1, 'text/plain')).rejects.toThrow(
      /no answer within 200 ms/,
    );
    await expect(s.ensureBucket()).rejects.toThrow(/no answer within 200 ms/);
  });
});
