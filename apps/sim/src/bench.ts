// Scale benchmark: N nodes and M pods created through the HTTP API of an in-process
// simulator; prints create rates, time until every pod is Running, watch delay and memory.
// Prints figures only, never asserts. Run: `pnpm bench:sim` (BENCH_NODES, BENCH_PODS, SIM_SPEED).
import { Agent, request } from 'node:http';
import { startSimulator } from './simulator.js';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SPEED = Number(process.env.SIM_SPEED ?? 1);

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(base: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function pool(count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function node(i: number): unknown {
  const capacity = { cpu: '32', memory: '128Gi', pods: '110' };
  return {
    metadata: {
      name: `bench-node-${i}`,
      labels: {
        'kubernetes.io/hostname': `bench-node-${i}`,
        'cloud.google.com/gke-nodepool': 'bench',
      },
    },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench' }],
    },
  };
}

function pod(i: number): unknown {
  return {
    metadata: { name: `bench-pod-${i}`, labels: { app: 'bench' } },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sleep', '86400'],
          resources: { requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
    },
  };
}

async function main(): Promise<void> {
  const sim = await startSimulator({ port: 0, speed: SPEED, world: { pools: [] } });
  const base = sim.url;
  print(
    `bench:sim — ${NODES} nodes, ${PODS} pods, concurrency ${CONCURRENCY}, SIM_SPEED=${SPEED}, simulator at ${base}`,
  );

  const sentAt = new Map<string, number>();
  const addDelays: number[] = [];
  let running = 0;
  let allRunning: (() => void) | undefined;
  const runningDone = new Promise<void>((r) => (allRunning = r));
  const seenRunning = new Set<string>();
  const watchReq = request(
    `${base}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${sim.store.resourceVersion}`,
    { agent: new Agent({ keepAlive: true }) },
    (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const ev = JSON.parse(line) as {
            type: string;
            object: { metadata: { name: string }; status?: { phase?: string } };
          };
          const name = ev.object.metadata.name;
          if (ev.type === 'ADDED') {
            const t = sentAt.get(name);
            if (t !== undefined) addDelays.push(performance.now() - t);
          }
          if (ev.object.status?.phase === 'Running' && !seenRunning.has(name)) {
            seenRunning.add(name);
            running += 1;
            if (running === PODS) allRunning?.();
          }
        }
      });
    },
  );
  watchReq.end();

  const t0 = performance.now();
  await pool(NODES, async (i) => {
    const code = await post(base, '/api/v1/nodes', node(i));
    if (code !== 201) throw new Error(`node create returned ${code}`);
  });
  const tNodes = performance.now() - t0;
  print(
    `nodes: ${NODES} created in ${(tNodes / 1000).toFixed(2)} s → ${(NODES / (tNodes / 1000)).toFixed(0)} creates/s`,
  );

  const t1 = performance.now();
  await pool(PODS, async (i) => {
    sentAt.set(`bench-pod-${i}`, performance.now());
    const code = await post(base, '/api/v1/namespaces/default/pods', pod(i));
    if (code !== 201) throw new Error(`pod create returned ${code}`);
  });
  const tPods = performance.now() - t1;
  print(
    `pods: ${PODS} created in ${(tPods / 1000).toFixed(2)} s → ${(PODS / (tPods / 1000)).toFixed(0)} creates/s`,
  );
  await runningDone;
  const tRunning = performance.now() - t1;
  print(
    `all ${PODS} pods Running ${(tRunning / 1000).toFixed(2)} s after the first create (kwok budget: 1,000 pods in 120 s)`,
  );
  print(
    `watch ADDED delay after the create request: p50 ${percentile(addDelays, 50).toFixed(1)} ms, p99 ${percentile(addDelays, 99).toFixed(1)} ms (${addDelays.length} events)`,
  );
  const mem = process.memoryUsage();
  print(
    `memory (simulator + bench client in one process): rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, objects stored ${sim.store.count('pods') + sim.store.count('nodes') + sim.store.count('events')}`,
  );
  watchReq.destroy();
  agent.destroy();
  await sim.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
