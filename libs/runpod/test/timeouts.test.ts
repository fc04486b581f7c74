import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { RunPodHttpClient, RunPodTimeout } from '../src/index.js';

/** An HTTP server that accepts every request and never answers: a hung RunPod API. */
let stalled: Server;
let requests = 0;
let restUrl: string;

beforeAll(async () => {
  stalled = createServer(() => {
    requests += 1;
  });
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', () => resolve()));
  restUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  stalled.closeAllConnections();
  await new Promise<void>((resolve) => stalled.close(() => resolve()));
});

// Long enough that the server, in this process, has read each request before the client gives
// up on it, even on a busy machine: the tests count the requests.
const client = () =>
  new RunPodHttpClient({ restUrl, apiKey: 'k', timeoutMs: 1000, maxAttempts: 2, backoffMs: 10 });

describe('RunPod client against an API that never answers', () => {
  it('fails a read with a timeout error after its bounded attempts', async () => {
    const before = requests;
    const error = await client()
      .getPod('pod-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPodTimeout);
    expect((error as Error).message).toBe('RunPod GET /v1/pods/pod-1: no answer within 1000 ms');
    expect(requests - before).toBe(2);
  });

  it('does not repeat a create that timed out (it may have succeeded)', async () => {
    const before = requests;
    const error = await client()
      .createPod({ name: 'offload-1', imageName: 'img', gpuTypeIds: ['A100'], gpuCount: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPodTimeout);
    expect((error as Error).message).toMatch(/POST \/v1\/pods: no answer within 1000 ms/);
    expect(requests - before).toBe(1);
  });
});
