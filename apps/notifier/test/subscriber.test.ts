import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { createEnvelope, subjects } from '@roam/contracts';
import { JetStreamConnection, JetStreamPublisher } from '@roam/messaging';
import { deleteTestStreams, testNatsUrl, testSubjectPrefix } from '@roam/testing';

const script = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'docs',
  'events',
  'subscriber.mjs',
);

/** Runs the documented subscriber; resolves once its consumer is ready. */
async function startSubscriber(prefix: string) {
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      NATS_URL: testNatsUrl(),
      ROAM_SUBJECT_PREFIX: prefix,
      ROAM_DURABLE: 'docs-example',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: { id: string; type: string; seq: number }[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line));
    for (const wake of waiters.splice(0)) wake();
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('"ready":true')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`subscriber exited ${code}: ${stderr}`)));
  });
  return {
    child,
    lines,
    async received(count: number) {
      while (lines.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return lines.slice(0, count);
    },
    async stop(): Promise<number | null> {
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      );
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('docs/events/subscriber.mjs', () => {
  const prefix = testSubjectPrefix();
  const connection = new JetStreamConnection({
    servers: testNatsUrl(),
    name: 'docs-test',
    subjectPrefix: prefix,
  });
  const publisher = new JetStreamPublisher(connection);
  const children: ChildProcess[] = [];

  const publish = async (seq: number) => {
    const jobId = crypto.randomUUID();
    const envelope = createEnvelope(
      subjects.job.succeeded,
      { jobId, name: 'docs', status: 'succeeded', phase: 'Succeeded' },
      { source: 'roam/test', tenantId: 'docs', subject: `jobs/${jobId}`, seq },
    );
    await publisher.publish(envelope);
    return envelope;
  };

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  afterAll(async () => {
    await connection.drain();
    await deleteTestStreams(prefix);
  });

  it('receives events, and after a restart resumes without re-receiving acked ones', async () => {
    await connection.connect();
    await connection.ensureStreams();

    const first = await startSubscriber(prefix);
    children.push(first.child);
    const a = await publish(1);
    const [got] = await first.received(1);
    expect(got).toMatchObject({ id: a.id, type: subjects.job.succeeded, seq: 1 });
    expect(await first.stop()).toBe(0);

    // Published while the subscriber is down: delivered after the restart, and only it.
    const b = await publish(2);
    const second = await startSubscriber(prefix);
    children.push(second.child);
    const c = await publish(3);
    const lines = await second.received(2);
    expect(lines.map((line) => line.id)).toEqual([b.id, c.id]);
    expect(lines.map((line) => line.id)).not.toContain(a.id);
    expect(await second.stop()).toBe(0);
    expect(second.lines).toHaveLength(2);
  });
});
