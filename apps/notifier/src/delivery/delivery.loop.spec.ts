import { describe, expect, it } from '@jest/globals';
import type { NotifierConfig, SecretBox } from '@roam/config';
import type { Outbox } from '@roam/messaging';
import { generateWebhookSecret } from '@roam/webhooks';
import pino from 'pino';

import type {
  ClaimedDelivery,
  ClaimRequest,
  DeliveriesRepository,
} from './deliveries.repository.js';
import { DeliveryLoop } from './delivery.loop.js';
import type { WebhookRequest, WebhookResponse, WebhookSender } from './sender.js';

const PER_ENDPOINT = 4;
const secret = generateWebhookSecret();

function delivery(i: number, endpointId: string): ClaimedDelivery {
  return {
    id: `d-${endpointId}-${i}`,
    endpointId,
    tenantId: 't',
    eventType: 'roam.evt.v1.job.succeeded',
    payload: { i },
    attempts: 0,
    url: `http://127.0.0.1/${endpointId}`,
    secret,
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
  };
}

/** Due deliveries in memory; `claim` honours the per-endpoint allowance as the SQL does. */
class FakeRepository {
  readonly claims: ClaimRequest[] = [];
  readonly succeeded: string[] = [];
  readonly released: string[] = [];
  private readonly due: ClaimedDelivery[];
  constructor(due: readonly ClaimedDelivery[]) {
    this.due = [...due];
  }

  claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    this.claims.push({ ...request, partial: new Map(request.partial) });
    const taken = new Map<string, number>();
    const chosen: ClaimedDelivery[] = [];
    for (const d of this.due) {
      if (chosen.length >= request.limit) break;
      const allowance = request.partial.get(d.endpointId) ?? request.perEndpoint;
      const count = taken.get(d.endpointId) ?? 0;
      if (count >= allowance) continue;
      taken.set(d.endpointId, count + 1);
      chosen.push(d);
    }
    for (const d of chosen) this.due.splice(this.due.indexOf(d), 1);
    return Promise.resolve(chosen);
  }

  recordSuccesses(items: readonly { deliveryId: string }[]): Promise<void> {
    this.succeeded.push(...items.map((i) => i.deliveryId));
    return Promise.resolve();
  }

  release(ids: readonly string[]): Promise<void> {
    this.released.push(...ids);
    return Promise.resolve();
  }
}

/** Holds every request until the test answers it; records the most in flight per endpoint. */
class HeldSender implements WebhookSender {
  readonly waiting: { url: string; answer: () => void }[] = [];
  readonly inFlight = new Map<string, number>();
  readonly most = new Map<string, number>();
  private arrived: (() => void) | undefined;

  send(request: WebhookRequest): Promise<WebhookResponse> {
    const n = (this.inFlight.get(request.url) ?? 0) + 1;
    this.inFlight.set(request.url, n);
    this.most.set(request.url, Math.max(n, this.most.get(request.url) ?? 0));
    return new Promise((resolve) => {
      this.waiting.push({
        url: request.url,
        answer: () => {
          this.inFlight.set(request.url, (this.inFlight.get(request.url) ?? 1) - 1);
          resolve({ statusCode: 204, body: '', durationMs: 1 });
        },
      });
      this.arrived?.();
    });
  }

  /** Resolves once `n` requests are waiting for an answer. */
  async waitFor(n: number): Promise<void> {
    while (this.waiting.length < n) await new Promise<void>((resolve) => (this.arrived = resolve));
  }
}

function loopWith(
  repository: FakeRepository,
  sender: HeldSender,
  maxConcurrency = 128,
): DeliveryLoop {
  const config = {
    WEBHOOK_TIMEOUT_MS: 10_000,
    WEBHOOK_POLL_INTERVAL_MS: 60_000,
    WEBHOOK_MAX_CONCURRENCY: maxConcurrency,
    WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT: PER_ENDPOINT,
    WEBHOOK_RETRY_SCALE: 1,
    WEBHOOK_DISABLE_AFTER_HOURS: 120,
  } as NotifierConfig;
  const box = { open: (sealed: string) => sealed } as unknown as SecretBox;
  return new DeliveryLoop(
    repository as unknown as DeliveriesRepository,
    sender,
    {} as Outbox,
    config,
    pino({ level: 'silent' }),
    box,
  );
}

describe('DeliveryLoop', () => {
  it('claims a round ahead: freed slots start queued deliveries, the per-endpoint cap holds', async () => {
    const due = [
      ...Array.from({ length: 12 }, (_, i) => delivery(i, 'a')),
      ...Array.from({ length: 3 }, (_, i) => delivery(i, 'b')),
    ];
    const repository = new FakeRepository(due);
    const sender = new HeldSender();
    const loop = loopWith(repository, sender);
    loop.onApplicationBootstrap();

    // One claim: four to each endpoint's slots (b has three), four more of a queued.
    await sender.waitFor(PER_ENDPOINT + 3);
    expect(repository.claims).toHaveLength(1);
    expect(repository.claims[0]!.perEndpoint).toBe(PER_ENDPOINT * 2);

    // Answering a's requests starts its queued ones at once (and, its queue now dry, claims
    // a's next round), and so on until everything is sent.
    let answered = 0;
    while (answered < due.length) {
      const held = sender.waiting.shift();
      if (held) {
        held.answer();
        answered += 1;
      } else await sender.waitFor(1);
    }
    // Shutdown waits for every attempt to be recorded.
    await loop.onApplicationShutdown();
    expect(repository.released).toEqual([]);
    expect(new Set(repository.succeeded).size).toBe(due.length);
    expect(sender.most.get('http://127.0.0.1/a')).toBe(PER_ENDPOINT);
    // Fewer claims than deliveries (before: one claim per freed slot).
    expect(repository.claims.length).toBeLessThan(due.length);
  });

  it('claims less while successes wait to be recorded: a slow database holds the sending back', async () => {
    const writes: (() => void)[] = [];
    class SlowRecords extends FakeRepository {
      override recordSuccesses(items: readonly { deliveryId: string }[]): Promise<void> {
        return new Promise<void>((resolve) => writes.push(resolve)).then(() =>
          super.recordSuccesses(items),
        );
      }
    }
    const repository = new SlowRecords([delivery(0, 'a'), delivery(0, 'b')]);
    const sender = new HeldSender();
    // Two in flight in total: four claimed at most.
    const loop = loopWith(repository, sender, 2);
    loop.onApplicationBootstrap();
    await sender.waitFor(2);
    expect(repository.claims[0]!.limit).toBe(4);
    for (const held of sender.waiting.splice(0)) held.answer();
    // Both answered, neither recorded yet: the next claim leaves room for them.
    while (repository.claims.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(repository.claims[1]!.limit).toBe(2);
    const stopped = loop.onApplicationShutdown();
    while (writes.length < 1) await new Promise((resolve) => setImmediate(resolve));
    for (const write of writes.splice(0)) write();
    await stopped;
    expect(repository.succeeded.sort()).toEqual(['d-a-0', 'd-b-0']);
  });

  it('releases claimed deliveries it never started at shutdown', async () => {
    const due = Array.from({ length: 8 }, (_, i) => delivery(i, 'a'));
    const repository = new FakeRepository(due);
    const sender = new HeldSender();
    const loop = loopWith(repository, sender);
    loop.onApplicationBootstrap();
    await sender.waitFor(PER_ENDPOINT);
    const stopped = loop.onApplicationShutdown();
    for (const held of sender.waiting.splice(0)) held.answer();
    await stopped;
    expect(repository.released).toEqual(['d-a-4', 'd-a-5', 'd-a-6', 'd-a-7']);
    expect(repository.succeeded).toEqual(['d-a-0', 'd-a-1', 'd-a-2', 'd-a-3']);
  });
});
