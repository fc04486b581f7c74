import { Injectable } from '@nestjs/common';
import { envelopeSchema, fullEventType, shortEventType } from '@roam/contracts';
import type { Response } from 'express';
import { z } from 'zod';

import { EventFeed } from './event-feed.js';
import {
  compareCursors,
  type EventRow,
  EventsRepository,
  type FeedCursor,
  type TypeFilter,
} from './events.repository.js';
import type { StreamSlot } from './open-streams.js';
import { SSE_FRAMING, streamClosedMessageSchema } from './stream.schemas.js';

const HEARTBEAT_MS = 15_000;
const CATCH_UP_BATCH = 500;

/** `job.succeeded`, `roam.evt.v1.job.succeeded`, `job.*` → a filter; none = every type. */
export function typeFilter(names: readonly string[]): TypeFilter | undefined {
  if (names.length === 0 || names.includes('*')) return undefined;
  const filter: TypeFilter = { types: [], prefixes: [] };
  for (const name of names) {
    if (name.endsWith('.*')) filter.prefixes.push(`${fullEventType(name.slice(0, -2))}.`);
    else filter.types.push(fullEventType(name));
  }
  return filter;
}

function matches(filter: TypeFilter | undefined, type: string): boolean {
  return (
    !filter ||
    filter.types.includes(type) ||
    filter.prefixes.some((prefix) => type.startsWith(prefix))
  );
}

/** What the feed sends for every event, paged (`event`) or streamed (`data`). */
export const eventEnvelopeSchema = envelopeSchema
  .describe(
    'The event as it was published: a CloudEvents-style envelope whose `data` is the payload of its `type` (JSON Schemas per type in docs/events).',
  )
  .meta({ id: 'EventEnvelope' });

export const eventViewSchema = z
  .object({
    position: z
      .number()
      .int()
      .describe(
        'The event’s id in the log; pass the last one seen as `after` to resume. Events come in commit order, which may differ from the order of these numbers.',
      ),
    type: z.string().describe('Short event type, e.g. `job.succeeded`.'),
    event: eventEnvelopeSchema,
  })
  .meta({ id: 'Event' });
export type EventView = z.output<typeof eventViewSchema>;

/** `GET /api/v1/events`. */
export const eventPageSchema = z
  .object({
    items: z.array(eventViewSchema),
    has_more: z.boolean(),
    next_cursor: z
      .string()
      .describe('Where to continue from, also when the page is empty: poll again with it.'),
  })
  .meta({ id: 'EventPage' });

/** `GET /api/v1/events/stream`, for the OpenAPI document: one message of the stream. */
export const eventStreamSchema = z
  .union([
    z
      .object({
        id: z
          .string()
          .describe(
            'The event’s position (`position` in the paged feed); reconnect with it as `Last-Event-ID` to resume.',
          ),
        event: z.string().describe('The short event type, e.g. `job.succeeded`.'),
        data: eventEnvelopeSchema,
      })
      .meta({ id: 'EventStreamEvent' }),
    streamClosedMessageSchema,
  ])
  .describe(
    `${SSE_FRAMING} Here: one message per event; \`: heartbeat\` every 15 s; a last \`event: closed\` when the API key the stream was opened with is revoked or its tenant deleted.`,
  )
  .meta({ id: 'EventStreamMessage' });

export function eventView(row: EventRow): EventView {
  return {
    position: Number(row.position),
    type: shortEventType(row.type),
    event: row.envelope as EventView['event'],
  };
}

/** The tenant's event log, paged or streamed; never past the feed's watermark (see EventFeed). */
@Injectable()
export class EventsService {
  constructor(
    private readonly repository: EventsRepository,
    private readonly feed: EventFeed,
  ) {}

  async list(
    tenantId: string,
    query: { after: bigint; limit: number; filter: TypeFilter | undefined; group?: string },
  ): Promise<EventRow[]> {
    const upto = await this.feed.refresh();
    // No event at or after that position: the client is at the end; nothing to list yet.
    const after = (await this.repository.cursorAt(query.after)) ?? upto;
    return this.repository.list(tenantId, { ...query, after, upto });
  }

  /**
   * Server-Sent Events: replays from `after` out of the table, then switches to the live feed
   * without a gap or a duplicate (the switch happens only when the replay has reached the
   * watermark the live feed continues from). A client that cannot keep up falls back to
   * replay until it drains. Heartbeat comments keep proxies from closing an idle stream.
   * The stream holds `slot` until it ends; a slot closed under it (key revoked) ends it with a
   * last `event: closed` saying why.
   *
   * With `group`, whether an event belongs to the group is known only to the database (the
   * job's group is not in its events): each live batch then wakes a replay from the table,
   * which filters by group, instead of being matched in memory.
   */
  stream(
    tenantId: string,
    after: bigint | undefined,
    filter: TypeFilter | undefined,
    res: Response,
    slot: StreamSlot,
    group?: string,
  ): void {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n\n');

    let last: FeedCursor = this.feed.watermark;
    let live = false;
    let closed = false;
    let replaying = false;

    const send = (row: EventRow): boolean => {
      last = { xid: row.xid, position: row.position };
      return res.write(
        `id: ${row.position}\nevent: ${shortEventType(row.type)}\ndata: ${JSON.stringify(row.envelope)}\n\n`,
      );
    };
    const fallBehind = () => {
      live = false;
      res.once('drain', () => void replay());
    };
    const replay = async (): Promise<void> => {
      if (replaying || closed) return;
      replaying = true;
      try {
        for (;;) {
          const watermark = this.feed.watermark;
          const rows = await this.repository.list(tenantId, {
            after: last,
            upto: watermark,
            limit: CATCH_UP_BATCH,
            filter,
            group,
          });
          if (closed) return;
          let full = true;
          for (const row of rows) full = send(row);
          if (!full) return fallBehind();
          // No await between this check and `live = true`: no feed batch can slip in between.
          if (rows.length < CATCH_UP_BATCH && this.feed.watermark === watermark) {
            // Rows of other tenants may lie between `last` and the watermark: skip them.
            if (compareCursors(last, watermark) < 0) last = watermark;
            live = true;
            return;
          }
        }
      } catch {
        close();
      } finally {
        replaying = false;
      }
    };
    const listener = (rows: readonly EventRow[]) => {
      if (!live || closed) return;
      if (group !== undefined) {
        live = false;
        void replay();
        return;
      }
      for (const row of rows) {
        if (compareCursors(row, last) <= 0) continue;
        if (row.tenantId === tenantId && matches(filter, row.type)) {
          if (!send(row)) return fallBehind();
        }
      }
      const end = rows.at(-1);
      if (end && compareCursors(end, last) > 0) last = { xid: end.xid, position: end.position };
    };
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      slot.release();
      if (slot.closedBecause !== undefined) {
        res.end(
          `event: closed\ndata: ${JSON.stringify({ reason: 'unauthorized', detail: slot.closedBecause })}\n\n`,
        );
      } else res.end();
    };
    const unsubscribe = this.feed.subscribe(listener, close);
    res.on('close', close);
    slot.signal.addEventListener('abort', close, { once: true });
    const start = async () => {
      if (after !== undefined) {
        const cursor = await this.repository.cursorAt(after);
        // No event at or after it: the client is at the end; continue live from the watermark.
        if (cursor) last = cursor;
      }
      await replay();
    };
    start().catch(close);
  }
}
