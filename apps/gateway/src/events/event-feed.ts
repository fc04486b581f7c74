import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import type { Logger } from 'pino';

import { type EventRow, EventsRepository } from './events.repository.js';

/** How long a hole in `position` may stay open before it is taken for a rolled-back insert. */
const GAP_SETTLE_MS = 1000;
const BATCH = 1000;

export type FeedListener = (rows: readonly EventRow[]) => void;

/**
 * One poller per gateway process, shared by every SSE connection: the cost is one indexed
 * query per interval whatever the number of clients, and it needs no schema change (no
 * trigger for LISTEN/NOTIFY) nor a connection outside Prisma's pool.
 *
 * `position` comes from a sequence, so a transaction that took a lower position may commit
 * after one that took a higher one. Reading `position > last` naively would skip the late
 * one forever. The feed therefore keeps a *watermark*: every position at or below it is
 * visible or will never be (a rolled-back insert leaves a hole for good, so a hole older
 * than GAP_SETTLE_MS is passed). Readers — SSE and `GET /events` — never read above it, so a
 * cursor handed to a client never jumps over an event that is still to appear.
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnModuleDestroy {
  private mark = 0n;
  private readonly listeners = new Set<FeedListener>();
  private readonly closers = new Set<() => void>();
  private gap: { position: bigint; seenAt: number } | undefined;
  private polling: Promise<void> | undefined;
  private readonly loop: Loop;

  constructor(
    private readonly repository: EventsRepository,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new Loop({
      name: 'event feed poll',
      intervalMs: config.EVENTS_POLL_INTERVAL_MS,
      logger,
      pass: () => this.refresh(),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.mark = await this.repository.maxPosition();
    this.loop.start();
  }

  /** Stops polling and ends every open stream so the HTTP server can close. */
  async onModuleDestroy(): Promise<void> {
    const stopping = this.loop.stop();
    for (const close of [...this.closers]) close();
    await stopping;
  }

  get watermark(): bigint {
    return this.mark;
  }

  subscribe(listener: FeedListener, close: () => void): () => void {
    this.listeners.add(listener);
    this.closers.add(close);
    return () => {
      this.listeners.delete(listener);
      this.closers.delete(close);
    };
  }

  /** Polls now (or joins the poll under way) and returns the new watermark. */
  async refresh(): Promise<bigint> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    await this.polling;
    return this.mark;
  }

  private async poll(): Promise<void> {
    for (;;) {
      const rows = await this.repository.after(this.mark, BATCH);
      const ready: EventRow[] = [];
      for (const row of rows) {
        const expected = this.mark + 1n;
        if (row.position !== expected) {
          const now = Date.now();
          if (this.gap?.position !== expected) this.gap = { position: expected, seenAt: now };
          if (now - this.gap.seenAt < GAP_SETTLE_MS) break;
        }
        ready.push(row);
        this.mark = row.position;
      }
      if (ready.length > 0) {
        for (const listener of this.listeners) {
          try {
            listener(ready);
          } catch (error) {
            this.logger.warn({ err: error }, 'event stream listener failed');
          }
        }
      }
      if (rows.length < BATCH || ready.length < rows.length) return;
    }
  }
}
