/**
 * `pnpm bench:sim-jobs`: the simulator's cost per zero-duration Kubernetes Job in a tenant
 * namespace shaped as roam provisions it (a ResourceQuota and a LimitRange), as the stack's
 * Job creation feels it: `BENCH_JOBS` (default 2,000) Jobs created over HTTP, `BENCH_CONCURRENCY`
 * (16, the scheduler's default) at a time, until every one has succeeded, with the watches
 * roam's workers hold open (`BENCH_WATCHERS`, default 3: the reconciler's Jobs and pods, the
 * scheduler's unfinished pods; each only counts the bytes it gets). Prints the create rate, the
 * time until all succeeded and the process's CPU ms per Job (client included: simulator and
 * client share the process). Asserts nothing.
 */
import { Agent, request } from 'node:http';

import { startSimulator } from '@roam/sim';

import { fmt } from './figures.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 3);
const WATCHES = [
  `/apis/batch/v1/jobs?watch=true`,
  `/api/v1/pods?watch=true`,
  `/api/v1/pods?watch=true&fieldSelector=${encodeURIComponent('status.phase!=Succeeded,status.phase!=Failed')}`,
];
const NAMESPACE = 'roam-bench';
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(base: string, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          (res.statusCode ?? 0) < 300
            ? resolve(text)
            : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const job = (i: number) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: `bench-${i}`, namespace: NAMESPACE },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'main',
            image: 'busybox',
            command: ['true'],
            resources: { requests: { cpu: '10m', memory: '16Mi' } },
          },
        ],
      },
    },
  },
});

const sim = await startSimulator({
  port: 0,
  speed: 1000,
  world: {
    pools: [{ name: 'bench', nodes: 100, capacity: { cpu: '64', memory: '256Gi', pods: '110' } }],
  },
});
try {
  const base = sim.url;
  await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
  await call(base, 'POST', `/api/v1/namespaces/${NAMESPACE}/resourcequotas`, {
    metadata: { name: 'roam-quota' },
    spec: {
      hard: {
        'requests.cpu': '100000',
        'requests.memory': '100000Gi',
        'requests.nvidia.com/gpu': '0',
        'requests.ephemeral-storage': '10000Gi',
        'limits.ephemeral-storage': '10000Gi',
        pods: '200000',
      },
    },
  });
  await call(base, 'POST', `/api/v1/namespaces/${NAMESPACE}/limitranges`, {
    metadata: { name: 'roam-limits' },
    spec: {
      limits: [
        {
          type: 'Container',
          defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '1Gi' },
          default: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '2Gi' },
          max: { 'ephemeral-storage': '10Gi' },
        },
      ],
    },
  });
  let watched = 0;
  const watches = Array.from({ length: WATCHERS }, (_, i) =>
    request(`${base}${WATCHES[i % WATCHES.length]!}`, (res) =>
      res.on('data', (chunk: Buffer) => (watched += chunk.length)),
    ).end(),
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < JOBS)
        await call(base, 'POST', `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`, job(next++));
    }),
  );
  const created = (performance.now() - t0) / 1000;
  console.error(
    `[bench] ${JOBS} Jobs created in ${fmt(created, 2)} s; waiting for them to succeed…`,
  );
  const succeeded = () => {
    let n = 0;
    for (const j of sim.store.list('jobs.batch', NAMESPACE))
      if (((j.status as { succeeded?: number } | undefined)?.succeeded ?? 0) > 0) n += 1;
    return n;
  };
  while (succeeded() < JOBS) await new Promise((r) => setTimeout(r, 50));
  const done = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `bench:sim-jobs: ${JOBS} Jobs, ${CONCURRENCY} creates at a time, in a namespace with a ResourceQuota and a LimitRange`,
  );
  console.log(`created in ${fmt(created, 2)} s (${fmt(JOBS / created, 0)}/s)`);
  console.log(`all succeeded after ${fmt(done, 2)} s`);
  console.log(`watch bytes per Job, over ${WATCHERS} watches: ${fmt(watched / JOBS, 0)}`);
  console.log(
    `CPU ms per Job (simulator and client): ${fmt((cpu.user + cpu.system) / 1000 / JOBS, 2)}`,
  );
  for (const watch of watches) watch.destroy();
} finally {
  await sim.close();
}
