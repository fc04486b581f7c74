import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningSimulator, startSimulator } from '@roam/sim';
import { eventually } from '@roam/testing';

import { ComputeError, GceCompute } from '../src/index.js';

describe('GceCompute against the simulated Compute Engine API', () => {
  let sim: RunningSimulator;
  let compute: GceCompute;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, speed: 200, kubeconfigPath: '', log: () => {} });
    compute = new GceCompute({
      baseUrl: sim.computeUrl,
      project: 'roam-sim',
      cluster: 'sim',
      timeoutMs: 2000,
    });
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('lists the node pool’s instances through its managed instance group', async () => {
    const instances = await compute.listInstances('tpu-pool');
    expect(instances.map((i) => i.name)).toEqual([
      'tpu-pool-0',
      'tpu-pool-1',
      'tpu-pool-2',
      'tpu-pool-3',
    ]);
    expect(instances[0]).toMatchObject({ zone: 'sim-zone-a', status: 'RUNNING' });
    expect(instances[0]!.group).toMatch(/^gke-sim-tpu-pool-[0-9a-f]{8}-grp$/);
    expect(await compute.listInstances('no-such-pool')).toEqual([]);
  });

  it('deletes an instance: the node goes, and the pool recreates it with a new id', async () => {
    const [victim] = await compute.listInstances('tpu-pool');
    const result = await compute.deleteInstance('tpu-pool', victim!);
    expect(result.status).toBe('DONE');
    expect(sim.compute.deletions).toEqual([
      expect.objectContaining({ instance: 'tpu-pool-0', id: victim!.id }),
    ]);
    const back = await eventually('tpu-pool-0 to be recreated', async () =>
      (await compute.listInstances('tpu-pool')).find(
        (i) => i.name === 'tpu-pool-0' && i.id !== victim!.id,
      ),
    );
    expect(back.id).not.toBe(victim!.id);
    // Deleting the old incarnation again is harmless (skipInstancesOnValidationError).
    await compute.deleteInstance('tpu-pool', { ...victim!, name: 'gone-instance' });
    expect(sim.compute.deletions).toHaveLength(1);
  });

  it('reports outages as retryable and times out a silent API', async () => {
    sim.compute.unavailable = true;
    try {
      await expect(compute.listInstances('tpu-pool')).rejects.toMatchObject({
        status: 503,
        retryable: true,
      });
    } finally {
      sim.compute.unavailable = false;
    }
    const silent: Server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = silent.address() as AddressInfo;
      const slow = new GceCompute({
        baseUrl: `http://127.0.0.1:${port}`,
        project: 'p',
        timeoutMs: 200,
      });
      const error = await slow.listInstances('tpu-pool').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ComputeError);
      expect((error as ComputeError).message).toContain('no answer within 200 ms');
      expect((error as ComputeError).retryable).toBe(true);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('sends the bearer token it is given', async () => {
    let seen: string | undefined;
    const server: Server = createServer((req, res) => {
      seen = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const authed = new GceCompute({
        baseUrl: `http://127.0.0.1:${port}`,
        project: 'p',
        accessToken: 'tok',
      });
      expect(await authed.listInstances('x')).toEqual([]);
      expect(seen).toBe('Bearer tok');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
