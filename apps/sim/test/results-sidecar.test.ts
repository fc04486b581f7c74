// roam's results sidecar as the simulated kubelet runs it: its termination message says
// whether it uploaded anything, as the real script's does (the storage worker reads it).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NO_RESULTS_MESSAGE, RESULTS_CONTAINER } from '@roam/object-store';
import { eventually } from '@roam/testing';

import type { Pod } from '../src/api/models.js';
import { type RunningSimulator, startSimulator } from '../src/index.js';

describe('the results sidecar in the simulated kubelet', () => {
  let sim: RunningSimulator;
  let receiver: Server;
  let uploads = 0;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, speed: 100 });
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        uploads += 1;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await sim?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function run(name: string, script: string): Promise<Pod> {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/upload`;
    const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          initContainers: [
            {
              name: RESULTS_CONTAINER,
              image: 'curlimages/curl',
              restartPolicy: 'Always',
              command: ['sh', '-c', 'sleep infinity'],
              env: [
                { name: 'ROAM_RESULTS_UPLOAD_URL', value: url },
                { name: 'ROAM_RESULTS_DIR', value: '/roam/results' },
              ],
            },
          ],
          containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }],
        },
      }),
    });
    expect(res.status).toBe(201);
    return eventually(`pod ${name} to succeed`, () => {
      const pod = sim.store.get<Pod>('pods', 'default', name);
      return Promise.resolve(pod?.status?.phase === 'Succeeded' ? pod : undefined);
    });
  }

  const messageOf = (pod: Pod) =>
    pod.status?.initContainerStatuses?.find((c) => c.name === RESULTS_CONTAINER)?.state?.terminated
      ?.message;

  it('ends with the "none" termination message when the job left no results', async () => {
    const before = uploads;
    const pod = await run('empty', 'true');
    expect(messageOf(pod)).toBe(NO_RESULTS_MESSAGE);
    expect(uploads).toBe(before);
  });

  it('ends with no such message when it uploaded', async () => {
    const before = uploads;
    const pod = await run('kept', 'echo 1 > /roam/results/out.txt');
    expect(messageOf(pod)).toBeUndefined();
    expect(uploads).toBe(before + 1);
  });
});
