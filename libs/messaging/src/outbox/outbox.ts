import { EVENT_SUBJECT_LIKE, type Envelope } from '@roam/contracts';
import { Prisma, type PrismaClient } from '@roam/db';
import { bindToActiveContext, currentTraceparent, metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

/** The one thing the outbox needs from JetStream; `Nats-Msg-Id` must be `envelope.id`. */
export interface EnvelopePublisher {
  publishMany(envelopes: readonly Envelope[]): Promise<unknown>;
}

export type Tx = Prisma.TransactionClient;

const { sql } = Prisma;
/** A row the relay failed to publish this many times is left for an operator (see `last_error`). */
export const MAX_RELAY_ATTEMPTS = 20;

export interface OutboxOptions {
  /** How long a row may stay unpublished before the relay takes it over. */
  relayGraceMs?: number;
  /** Rows per relay pass. */
  batchSize?: number;
  /** Published rows older than this are deleted by the relay. */
  retainPublishedMs?: number;
  /**
   * The subjects this process may publish (its NATS user's permissions, `busRoles`); the relay
   * leaves other processes' rows to them. Unset = every row.
   */
  relaySubjects?: readonly string[];
}

/**
 * Transactional outbox (docs/architecture.md#outbox). `write()` adds the messages to the caller's
 * transaction; `dispatch()` publishes them once that transaction has committed. If the process
 * dies in between, `relayOnce()` (run on a timer by every app) publishes what is left; the
 * JetStream duplicate window makes a second publish of the same id a no-op.
 */
export class Outbox {
  private readonly pendingMarks = new Set<string>();
  private markTimer: NodeJS.Timeout | undefined;
  private marking: Promise<void> = Promise.resolve();
  private readonly relayGraceMs: number;
  private readonly relaySubjects: string[] | null;
  private readonly batchSize: number;
  private readonly retainPublishedMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly publisher: EnvelopePublisher,
    private readonly logger: Logger,
    options: OutboxOptions = {},
  ) {
    this.relayGraceMs = options.relayGraceMs ?? 5000;
    this.relaySubjects = options.relaySubjects ? [...options.relaySubjects] : null;
    this.batchSize = options.batchSize ?? 500;
    this.retainPublishedMs = options.retainPublishedMs ?? 24 * 3600 * 1000;
  }

  /**
   * Inside a transaction: record the messages the state change causes. Events are also kept
   * in `events`, the log behind `GET /api/v1/events`, so the log and the stream never disagree.
   * One statement whatever the count: the rows travel as a single jsonb parameter (two
   * `createMany` calls took ~0.5 s for the 2,000 messages of a 1,000-job batch).
   */
  async write(tx: Tx, envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    await tx.$executeRaw`WITH ${this.cte(envelopes)} SELECT 1`;
  }

  /**
   * The same rows as `write()`, as common table expressions (`outbox_input`, `outbox_rows`,
   * `outbox_events`) for a caller that folds its own state change and its messages into ONE
   * statement (one round trip, atomic by itself). `onlyIf` is a SQL condition (e.g. `EXISTS
   * (SELECT 1 FROM inserted)`) that must hold for the messages to be written.
   */
  cte(envelopes: readonly Envelope[], onlyIf: Prisma.Sql = sql`TRUE`): Prisma.Sql {
    // Written inside a request or handler span: the envelope carries that trace to its
    // consumers, whether it is dispatched now or relayed later. Stamped on the caller's objects
    // so `dispatch()` publishes exactly what was stored.
    const traceparent = currentTraceparent();
    if (traceparent) for (const envelope of envelopes) envelope.traceparent ??= traceparent;
    const rows = JSON.stringify(
      envelopes.map((envelope) => ({
        id: envelope.id,
        type: envelope.type,
        tenant_id: envelope.tenantId ?? null,
        subject: envelope.subject ?? null,
        time: envelope.time,
        envelope,
      })),
    );
    return sql`outbox_input AS (
        SELECT * FROM jsonb_to_recordset(${rows}::jsonb) AS r(
          id uuid, type text, tenant_id text, subject text, time timestamptz, envelope jsonb)
        WHERE ${onlyIf}
      ), outbox_rows AS (
        INSERT INTO outbox_messages (id, subject, envelope)
        SELECT id, type, envelope FROM outbox_input
      ), outbox_events AS (
        INSERT INTO events (id, tenant_id, type, subject, time, envelope)
        SELECT id, tenant_id, type, subject, time, envelope FROM outbox_input
        WHERE type LIKE ${EVENT_SUBJECT_LIKE}
      )`;
  }

  /**
   * Runs `work` in a transaction, writes the envelopes it returns in that same transaction, and
   * dispatches them after commit.
   */
  async transaction<T>(work: (tx: Tx) => Promise<{ result: T; messages: Envelope[] }>): Promise<T> {
    // Prisma runs the callback outside the caller's async context: bind it, so the work's
    // spans and the envelopes' `traceparent` belong to the request or handler that wrote them.
    const { result, messages } = await this.prisma.$transaction(
      bindToActiveContext(async (tx: Tx) => {
        const outcome = await work(tx);
        await this.write(tx, outcome.messages);
        return outcome;
      }),
    );
    await this.dispatch(messages);
    return result;
  }

  /**
   * After commit: publish now and mark the rows published in a later batched UPDATE. A failure
   * here loses nothing (the rows stay for the relay), so it is logged, not thrown.
   */
  async dispatch(envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    try {
      await this.publisher.publishMany(envelopes);
      metrics.outboxPublished.inc(envelopes.length);
      for (const envelope of envelopes) this.pendingMarks.add(envelope.id);
      this.scheduleMark();
    } catch (error) {
      metrics.outboxPublishFailures.inc({ path: 'dispatch' });
      this.logger.warn(
        { err: error, count: envelopes.length },
        'outbox publish failed; the relay will retry',
      );
    }
  }

  /**
   * Publishes rows left unpublished for longer than the grace period. Returns how many. If the
   * batch fails, rows are tried one by one so a single bad row cannot block the others; a row
   * that fails MAX_RELAY_ATTEMPTS times is left aside (with its last error) for an operator.
   */
  async relayOnce(graceMs = this.relayGraceMs): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; envelope: Envelope }[]>`
        SELECT id, envelope FROM outbox_messages
        WHERE published_at IS NULL AND attempts < ${MAX_RELAY_ATTEMPTS}
          AND created_at <= now() - make_interval(secs => ${graceMs / 1000})
          AND (${this.relaySubjects}::text[] IS NULL OR subject = ANY(${this.relaySubjects}::text[]))
        ORDER BY created_at
        LIMIT ${this.batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return 0;
      let published: string[];
      try {
        await this.publisher.publishMany(rows.map((row) => row.envelope));
        published = rows.map((row) => row.id);
      } catch {
        published = [];
        for (const row of rows) {
          try {
            await this.publisher.publishMany([row.envelope]);
            published.push(row.id);
          } catch (error) {
            metrics.outboxPublishFailures.inc({ path: 'relay' });
            await tx.outboxMessage.update({
              where: { id: row.id },
              data: { attempts: { increment: 1 }, lastError: String(error).slice(0, 500) },
            });
            this.logger.error(
              { err: error, messageId: row.id },
              'outbox relay could not publish a message',
            );
          }
        }
      }
      if (published.length > 0) {
        metrics.outboxRelayed.inc(published.length);
        await tx.outboxMessage.updateMany({
          where: { id: { in: published } },
          data: { publishedAt: new Date(), attempts: { increment: 1 } },
        });
        this.logger.info(
          { count: published.length },
          'outbox relay published messages left behind',
        );
      }
      return published.length;
    });
  }

  /** Deletes published rows past retention. */
  async prune(): Promise<number> {
    const { count } = await this.prisma.outboxMessage.deleteMany({
      where: { publishedAt: { lt: new Date(Date.now() - this.retainPublishedMs) } },
    });
    return count;
  }

  /** Writes every pending "published" mark; call before shutdown. */
  async flushMarks(): Promise<void> {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = undefined;
    const ids = [...this.pendingMarks];
    this.pendingMarks.clear();
    const previous = this.marking;
    this.marking = previous.then(async () => {
      if (ids.length === 0) return;
      try {
        await this.prisma.outboxMessage.updateMany({
          where: { id: { in: ids } },
          data: { publishedAt: new Date() },
        });
      } catch (error) {
        // Unmarked rows are republished by the relay and deduplicated by JetStream.
        this.logger.warn({ err: error, count: ids.length }, 'could not mark outbox rows published');
      }
    });
    await this.marking;
  }

  private scheduleMark(): void {
    if (this.pendingMarks.size >= this.batchSize) {
      void this.flushMarks();
      return;
    }
    this.markTimer ??= setTimeout(() => void this.flushMarks(), 20);
  }
}
