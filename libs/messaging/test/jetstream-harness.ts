import { randomBytes } from 'node:crypto';

import type { Msg, Subscription } from '@nats-io/transport-node';

import { JetStreamConnection } from '../src/jetstream/connection.js';
import type { DeadLetter } from '../src/jetstream/dead-letter.js';
import type { JetStreamOptions } from '../src/jetstream/options.js';

export const natsUrl = (): string => process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const uniquePrefix = (): string => `t${randomBytes(5).toString('hex')}`;

/** Connects, or fails the suite with a message saying what is missing. */
export async function connectOrExplain(options: JetStreamOptions): Promise<JetStreamConnection> {
  const connection = new JetStreamConnection(options);
  try {
    await connection.connect();
  } catch (err) {
    throw new Error(
      `these tests need NATS with JetStream at ${natsUrl()} (set NATS_URL): ${(err as Error).message}`,
    );
  }
  return connection;
}

/**
 * Collects values and lets a test wait for one matching a predicate. Waits are on events;
 * the deadline only turns a hang into a failure that names what never happened.
 */
export class Recorder<T> {
  readonly items: T[] = [];
  private waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  waitFor(what: string, match: (item: T) => boolean, timeoutMs = 15_000): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never saw ${what}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }
}

/** Subscribes (core NATS) to every dead letter under the prefix; returns them parsed. */
export function collectDeadLetters(
  connection: JetStreamConnection,
  prefix: string,
): { letters: Recorder<DeadLetter & { wireSubject: string }>; sub: Subscription } {
  const letters = new Recorder<DeadLetter & { wireSubject: string }>();
  const sub = connection.nats.subscribe(`${prefix}.roam.dlq.>`, {
    callback: (err: Error | null, msg: Msg) => {
      if (!err) letters.push({ ...msg.json<DeadLetter>(), wireSubject: msg.subject });
    },
  });
  return { letters, sub };
}

/** A promise with its resolver, for gates a test opens. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
