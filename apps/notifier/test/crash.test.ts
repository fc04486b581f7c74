import { type ChildProcess, spawn } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';
import { verifyWebhook } from '@roam/webhooks';

import { builtApp } from '../../../test/support/processes.js';
import { hang } from './receiver.js';
import { FAST_NOTIFIER, register, startWorld, type World } from './world.js';

describe('notifier crash safety', () => {
  let w: World;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    w = await startWorld('notifier_crash', { notifier: false });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await w?.close();
  });

  it('delivers an event whose notifier was killed -9 mid-delivery', async () => {
    const key = await register(w.h.url, 'crashy');
    // Killed the moment its request arrives, from the receiver itself: mid-delivery, before its
    // attempt can time out and be recorded, however late the test's own code would run.
    w.receiver.on('/crash', (_request, count) => {
      if (count !== 1) return 200;
      child?.kill('SIGKILL');
      return hang();
    });
    const endpoint = await w.endpoint(key, '/crash', ['job.succeeded']);

    child = spawn(process.execPath, [builtApp('notifier')], {
      // A timeout that leaves a loaded machine room to deliver the kill first (the claim lasts
      // 3 timeouts + 1 s, which the new notifier waits out below).
      env: { ...process.env, ...w.h.env, ...FAST_NOTIFIER, WEBHOOK_TIMEOUT_MS: '4000', PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child!.once('exit', (_code, signal) => resolve(signal)),
    );

    const event = await w.emit('crashy', subjects.job.succeeded);
    const [first] = await w.receiver.received('/crash').catch((error: unknown) => {
      throw new Error(`${String(error)}; notifier stderr: ${stderr}`);
    });
    expect(await exited).toBe('SIGKILL');
    const claimed = await w.h.prisma.webhookDelivery.findFirstOrThrow({
      where: { eventId: event.id, endpointId: endpoint.id },
    });
    // Not delivered. Usually no attempt is recorded yet; on a loaded machine the receiver (in
    // this process) may take the request only after the notifier's own timeout has counted one.
    expect(claimed.status).toBe('pending');
    expect(claimed.attempts).toBeLessThanOrEqual(1);

    // A new notifier takes the delivery over once the dead one's claim has expired.
    await w.startNotifier();
    const [, second] = await w.receiver.received('/crash', 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verifyWebhook(endpoint.secret, second!.headers, second!.body)).toMatchObject({
      id: event.id,
    });
    const done = await eventually('the delivery to succeed', async () => {
      const row = await w.h.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: claimed.id } });
      return row.status === 'succeeded' ? row : undefined;
    });
    // Exactly one more attempt: the one that succeeded.
    expect(done.attempts).toBe(claimed.attempts + 1);
  });
});
