import { notifierEnv } from '@roam/config';
import { createEnvelope, type Envelope, type JobEvent } from '@roam/contracts';
import { Outbox } from '@roam/messaging';
import { createRoamApp, type RoamApp } from '@roam/runtime';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { NotifierModule } from '../src/notifier.module.js';
import { Receiver } from './receiver.js';

/**
 * Delivery settings that make a test's retries take milliseconds. The attempt timeout stays at
 * its default: the receiver runs in the test's process, and on a loaded machine a short one
 * could count an attempt (and retry) before the receiver has read a request it then answers,
 * which tests counting requests and attempts would see.
 */
export const FAST_NOTIFIER = {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32',
  WEBHOOK_RETRY_SCALE: '1000',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_POLL_INTERVAL_MS: '50',
};

export interface World {
  h: Harness;
  receiver: Receiver;
  notifier: RoamApp<unknown> | undefined;
  startNotifier(extra?: Record<string, string>): Promise<RoamApp<unknown>>;
  /** Commits a job event through the outbox, as the scheduler and reconciler do. */
  emit(tenantId: string, type: string, seq?: number): Promise<Envelope<JobEvent>>;
  /** Creates an endpoint through the API; returns its id and secret. */
  endpoint(key: string, path: string, events: string[]): Promise<{ id: string; secret: string }>;
  close(): Promise<void>;
}

/** Gateway + scheduler (the gateway harness), a receiver on 127.0.0.1, and optionally a notifier. */
export async function startWorld(
  name: string,
  options: { notifier?: boolean; notifierEnv?: Record<string, string> } = {},
): Promise<World> {
  const h = await startHarness(name, { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32' });
  const receiver = await new Receiver().start();
  const outboxApp = await h.gateway({});
  const outbox = outboxApp.app.get(Outbox);
  const world: World = {
    h,
    receiver,
    notifier: undefined,
    async startNotifier(extra = {}) {
      world.notifier = await createRoamApp({
        name: 'notifier',
        schema: notifierEnv,
        module: NotifierModule,
        env: { ...h.env, ...FAST_NOTIFIER, ...options.notifierEnv, ...extra },
      });
      return world.notifier;
    },
    async emit(tenantId, type, seq = 3) {
      const jobId = crypto.randomUUID();
      const envelope = createEnvelope<JobEvent>(
        type,
        { jobId, name: 'train', status: 'succeeded', phase: 'Succeeded' },
        { source: 'roam/test', tenantId, subject: `jobs/${jobId}`, seq },
      );
      await outbox.transaction(() => Promise.resolve({ result: undefined, messages: [envelope] }));
      return envelope;
    },
    async endpoint(key, path, events) {
      const response = await call(
        h.url,
        'POST',
        '/api/v1/webhooks',
        { url: receiver.on(path, receiver.behaviour(path)), events },
        key,
      );
      if (response.status !== 201)
        throw new Error(`create webhook: ${JSON.stringify(response.body)}`);
      return { id: response.body.id as string, secret: response.body.secret as string };
    },
    async close() {
      await world.notifier?.close();
      await receiver.close();
      await h.close();
    },
  };
  if (options.notifier !== false) await world.startNotifier();
  return world;
}

export { call, register };
