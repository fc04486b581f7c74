// Webhook delivery throughput and latency: 10,000 job events committed through the outbox for
// 50 tenants with one endpoint each (a receiver on 127.0.0.1 answering 204), delivered by one
// in-process notifier. Prints deliveries/s and the latency from event commit to the first
// attempt reaching the receiver. Prints figures; asserts nothing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { notifierEnv } from '@roam/config';
import { createEnvelope, type Envelope, subjects } from '@roam/contracts';
import { Outbox } from '@roam/messaging';
import { createRoamApp } from '@roam/runtime';
import {
  createTestDatabase,
  deleteTestStreams,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';
import { generateWebhookSecret } from '@roam/webhooks';

// @ts-expect-error -- the built module (bench runs against dist, like the apps do).
import { NotifierModule } from '../apps/notifier/dist/notifier.module.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const ENDPOINTS = 50;
const IN_FLIGHT_COMMITS = 16;
/** Events per outbox transaction: one transaction per event caps the commit rate, not delivery. */
const PER_COMMIT = Number(process.env.BENCH_EVENTS_PER_COMMIT ?? 20);

const committedAt = new Map<string, number>();
const latencies: number[] = [];
let firstCommit = 0;
let lastReceive = 0;
let resolveAll: () => void = () => {};
const allReceived = new Promise<void>((resolve) => (resolveAll = resolve));
const seen = new Set<string>();

const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const now = performance.now();
    const id = (JSON.parse(body) as { id: string }).id;
    if (!seen.has(id)) {
      seen.add(id);
      const committed = committedAt.get(id);
      if (committed !== undefined) latencies.push(now - committed);
      lastReceive = now;
      if (seen.size === EVENTS) resolveAll();
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const db = await createTestDatabase('bench_webhooks');
const prefix = testSubjectPrefix();
const tenants = Array.from({ length: ENDPOINTS }, (_, i) => `bench-${i}`);
for (const id of tenants) {
  await db.prisma.tenant.create({ data: { id, namespace: `roam-${id}`, status: 'ready' } });
  await db.prisma.webhookEndpoint.create({
    data: {
      id: crypto.randomUUID(),
      tenantId: id,
      url: `${base}/hooks/${id}`,
      events: ['job.succeeded'],
      secret: generateWebhookSecret(),
      createdAt: new Date(Date.now() - 60_000),
    },
  });
}

const notifier = await createRoamApp({
  name: 'notifier',
  schema: notifierEnv,
  module: NotifierModule as never,
  env: {
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '20',
    NATS_URL: testNatsUrl(),
    NATS_SUBJECT_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32',
  },
});
const outbox = notifier.app.get(Outbox);

let next = 0;
firstCommit = performance.now();
await Promise.all(
  Array.from({ length: IN_FLIGHT_COMMITS }, async () => {
    while (next < EVENTS) {
      const envelopes: Envelope[] = [];
      for (let k = 0; k < PER_COMMIT && next < EVENTS; k += 1) {
        const i = next++;
        const tenantId = tenants[i % ENDPOINTS]!;
        const jobId = crypto.randomUUID();
        envelopes.push(
          createEnvelope(
            subjects.job.succeeded,
            { jobId, name: `job-${i}`, status: 'succeeded', phase: 'Succeeded' },
            { source: 'roam/bench', tenantId, subject: `jobs/${jobId}`, seq: 5 },
          ),
        );
      }
      await outbox.transaction(() => Promise.resolve({ result: undefined, messages: envelopes }));
      const now = performance.now();
      for (const envelope of envelopes) committedAt.set(envelope.id, now);
    }
  }),
);
const commitsDone = performance.now();
await allReceived;

latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
const seconds = (lastReceive - firstCommit) / 1000;
console.log(
  JSON.stringify(
    {
      events: EVENTS,
      endpoints: ENDPOINTS,
      eventsPerCommit: PER_COMMIT,
      commitRatePerSecond: Math.round(EVENTS / ((commitsDone - firstCommit) / 1000)),
      deliveriesPerSecond: Math.round(EVENTS / seconds),
      commitToFirstAttemptMs: {
        p50: Math.round(pct(0.5)),
        p90: Math.round(pct(0.9)),
        p99: Math.round(pct(0.99)),
        max: Math.round(latencies.at(-1)!),
      },
    },
    null,
    2,
  ),
);

await notifier.close();
receiver.closeAllConnections();
receiver.close();
await db.drop();
await deleteTestStreams(prefix);
