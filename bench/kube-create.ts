/**
 * `node bench/run.mjs bench/kube-create.ts`: how fast the Kubernetes port creates Jobs against
 * the simulator (client-node through libs/kube), against raw HTTP POSTs for comparison.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kube } from '@roam/kube';
import { startSimulator } from '@roam/sim';

const N = Number(process.env.BENCH_N ?? 1000);
const CONCURRENCY = 64;

const job = (name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'default' },
  spec: {
    suspend: true,
    template: {
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['true'] }] },
    },
  },
});

async function run(label: string, create: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await create(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${label}: ${N} Job creates in ${seconds.toFixed(2)} s = ${(N / seconds).toFixed(0)}/s`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'roam-kube-bench-'));
const sim = await startSimulator({
  port: 0,
  kubeconfigPath: join(dir, 'kubeconfig'),
  log: () => {},
});
try {
  const kube = Kube.fromKubeconfig(sim.kubeconfigPath);
  await run('libs/kube (client-node)', (i) => kube.create(job(`k-${i}`)));
  await run('raw fetch', (i) =>
    fetch(`${sim.url}/apis/batch/v1/namespaces/default/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(job(`r-${i}`)),
    }).then((response) => response.arrayBuffer()),
  );
} finally {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
}
