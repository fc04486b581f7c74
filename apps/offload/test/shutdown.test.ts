// The offload worker's shutdown: closing it lets the reconcile pass in progress run to its end
// (on the open database) before the connections close. RunPod is the simulator behind a real
// HTTP relay that can hold the worker's pod listing, so a pass can be caught mid-way.
import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRoamApp } from '@roam/runtime';
import { eventually } from '@roam/testing';

import { type Harness, startHarness } from '../../../test/support/harness.js';
import { POD_NAME_PREFIX } from '../src/kube-objects.js';
import { offloadEnv } from '../src/offload.config.js';
import { OffloadModule } from '../src/offload.module.js';

/** Forwards to `target`; while `holding`, pod listings wait until `release()`. */
function holdingRelay(target: string) {
  const held: (() => void)[] = [];
  let holding = false;
  const server: Server = createServer((req, res) => {
    const forward = () => {
      const upstream = request(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (holding && req.method === 'GET' && req.url?.split('?')[0] === '/v1/pods')
      held.push(forward);
    else forward();
  });
  return {
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
    hold: () => (holding = true),
    held: () => held.length,
    release: () => {
      holding = false;
      for (const forward of held.splice(0)) forward();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('offload worker shutdown', () => {
  let h: Harness;
  let relay: ReturnType<typeof holdingRelay>;

  beforeAll(async () => {
    h = await startHarness('offload_stop');
    relay = holdingRelay(h.sim.runpodUrl);
  });

  afterAll(async () => {
    relay?.release();
    await relay?.close();
    await h?.close();
  });

  it('waits for the pass in progress, which finishes its work before the connections close', async () => {
    // A tagged pod no offload row knows: the pass's orphan sweep terminates it, after it has
    // listed the pods (held below) and looked the tag up in Postgres.
    const created = await fetch(`${h.sim.runpodUrl}/v1/pods`, {
      method: 'POST',
      headers: { authorization: 'Bearer sim-key', 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `${POD_NAME_PREFIX}${randomUUID()}`,
        imageName: 'left-behind:1',
        gpuTypeIds: ['NVIDIA RTX A4000'],
      }),
    });
    expect(created.status).toBe(201);
    const orphan = (await created.json()) as { id: string };
    expect(h.sim.runpod.livePods().map((p) => p.id)).toContain(orphan.id);

    relay.hold();
    const worker = await createRoamApp({
      name: 'offload',
      schema: offloadEnv,
      module: OffloadModule,
      env: {
        ...h.env,
        RUNPOD_API_URL: `${await relay.listen()}/v1`,
        RUNPOD_API_KEY: 'sim-key',
        OFFLOAD_CREATE_GRACE_MS: '0',
        LOG_LEVEL: 'silent',
      },
    });
    await eventually('the first pass waiting on its pod listing', () => relay.held() > 0);

    const closing = worker.close();
    relay.release();
    await closing;
    expect(h.sim.runpod.livePods().map((p) => p.id)).not.toContain(orphan.id);
  });
});
