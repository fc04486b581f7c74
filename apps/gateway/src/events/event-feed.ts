import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

import {
  compareCursors,
  type EventRow,
  EventsRepository,
  FEED_START,
  type FeedCursor,
} from './events.repository.js';

const BATCH = 1000;

export type FeedListener = (rows: readonly EventRow[]) => void;

/**
 * One poller per gateway process, shared by every SSE connection: the cost is one indexed
 * query per interval whatever the number of clients, and it needs no trigger for
 * LISTEN/NOTIFY nor a connection outside Prisma's pool.
 *
 * `position` comes from a sequence, so a transaction that took a lower position may commit
 * after one that took a higher one; reading `position > last` would skip the late one forever.
 * The feed therefore reads in (writing transaction id, position) order and only rows of
 * transactions below the oldest one still open (`pg_snapshot_xmin`): those are all committed
 * or rolled back, and any row still to appear has a higher transaction id, so the *watermark*
 * (the last row read) never jumps over an event to come. Readers — SSE and `GET /events` —
 * never read past it. The price: while a transaction that has written anything stays open,
 * anywhere on the database server, events committed after it wait; the feed reports that wait
 * (`roam_event_feed_stalled_seconds`, and a warning after EVENTS_STALL_WARN_MS).
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnModuleDestroy {
  private mark: FeedCursor = FEED_START;
  private readonly listeners = new Set<FeedListener>();
  private readonly closers = new Set<() => void>();
  private polling: Promise<void> | undefined;
  private readonly loop: Loop;
  private readonly stallWarnMs: number;
  private stall: { horizon: bigint; since: number; warnedAt: number } | undefined;

  constructor(
    private readonly repository: EventsRepository,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.stallWarnMs = config.EVENTS_STALL_WARN_MS;
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
    this.mark = await this.repository.end();
    this.loop.start();
  }

  /** Stops polling and ends every open stream so the HTTP server can close. */
  async onModuleDestroy(): Promise<void> {
    const stopping = this.loop.stop();
    for (const close of [...this.closers]) close();
    await stopping;
  }

  get watermark(): FeedCursor {
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
  async refresh(): Promise<FeedCursor> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    await this.polling;
    return this.mark;
  }

  private async poll(): Promise<void> {
    for (;;) {
      const rows = await this.repository.after(this.mark, BATCH);
      const last = rows.at(-1);
      if (last && compareCursors(last, this.mark) > 0) {
        this.mark = { xid: last.xid, position: last.position };
        for (const listener of this.listeners) {
          try {
            listener(rows);
          } catch (error) {
            this.logger.warn({ err: error }, 'event stream listener failed');
          }
        }
      }
      if (rows.length < BATCH) break;
    }
    await this.watchStall();
  }

  /** Measures how long committed events have waited behind one open transaction. */
  private async watchStall(): Promise<void> {
    const { horizon, waiting } = await this.repository.waiting();
    const now = Date.now();
    if (!waiting) {
      this.stall = undefined;
      metrics.eventFeedStalled.set(0);
      return;
    }
    if (this.stall?.horizon !== horizon) this.stall = { horizon, since: now, warnedAt: now };
    const waited = now - this.stall.since;
    metrics.eventFeedStalled.set(waited / 1000);
    if (now - this.stall.warnedAt >= this.stallWarnMs) {
      this.stall.warnedAt = now;
      this.logger.warn(
        { waitedMs: waited, oldestOpenXid: horizon.toString() },
        'events are held back by a database transaction left open (see pg_stat_activity, state "idle in transaction")',
      );
    }
  }
}
