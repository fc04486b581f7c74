import { EVENT_SUBJECT_LIKE, type Envelope } from '@roam/contracts';
import { directSql, Prisma, type PrismaClient, type RawStatements } from '@roam/db';
import { bindToActiveContext, currentTraceparent, metrics } from '@roam/telemetry';
import type { Logger } from 'pino';

/** The one thing the outbox needs from JetStream; `Nats-Msg-Id` must be `envelope.id`. */
export interface EnvelopePublisher {
  publishMany(envelopes: readonly Envelope[]): Promise<unknown>;
}

export type Tx = Prisma.TransactionClient;

interface ClaimedRow {
  id: string;
  envelope: Envelope;
  attempts: number;
  createdAt: Date;
}

const { sql } = Prisma;
/** Default relay attempts of one row before it is parked for an operator (see `last_error`). */
export const MAX_RELAY_ATTEMPTS = 20;

/** An outbox row the relay gave up on, as operators see it. */
export interface ParkedOutboxRow {
  id: string;
  subject: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  parkedAt: Date;
}

export interface OutboxOptions {
  /** How long a row may stay unpublished before the relay takes it over. */
  relayGraceMs?: number;
  /** Rows per relay pass. */
  batchSize?: number;
  /** Published rows older than this are deleted by the relay. */
  retainPublishedMs?: number;
  /** Relay attempts of one row, timeouts and crashes included, before it is parked. */
  maxAttempts?: number;
  /**
   * How long a claimed row stays claimed: a relay that died mid-publish leaves its rows to the
   * next claim after this (the dead attempt still counts). Longer than a publish's whole budget.
   */
  claimLeaseMs?: number;
  /** Pause before a failed row is tried again: doubles per attempt, capped at 5 min. */
  retryBackoffMs?: number;
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
  private readonly maxAttempts: number;
  private readonly claimLeaseMs: number;
  private readonly retryBackoffMs: number;
  /** The relay's and the marks' statements, outside Prisma's pipeline (docs/architecture.md#direct-sql). */
  private readonly sql: RawStatements;

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
    this.maxAttempts = Math.max(1, options.maxAttempts ?? MAX_RELAY_ATTEMPTS);
    this.claimLeaseMs = options.claimLeaseMs ?? 60_000;
    this.retryBackoffMs = options.retryBackoffMs ?? 1000;
    this.sql = directSql(prisma);
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
        SELECT id, type, tenant_id, subject, time, envelope FROM jsonb_to_recordset(${rows}::jsonb) AS r(
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
   * dispatches them after commit. `committed` runs between the two: what this process must
   * know before any consumer can act on the messages (e.g. streams to end on a revocation).
   */
  async transaction<T>(
    work: (tx: Tx) => Promise<{ result: T; messages: Envelope[] }>,
    committed?: (result: T) => void,
  ): Promise<T> {
    // Prisma runs the callback outside the caller's async context: bind it, so the work's
    // spans and the envelopes' `traceparent` belong to the request or handler that wrote them.
    const { result, messages } = await this.prisma.$transaction(
      bindToActiveContext(async (tx: Tx) => {
        const outcome = await work(tx);
        await this.write(tx, outcome.messages);
        return outcome;
      }),
    );
    try {
      committed?.(result);
    } catch (error) {
      // The change has committed: the caller gets its result and the messages still go.
      this.logger.error({ err: error }, 'outbox: a committed callback failed');
    }
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
   * Publishes rows left unpublished for longer than the grace period; returns how many.
   *
   * No transaction is held while publishing (an interactive one would hit Prisma's 5 s limit
   * on a slow NATS, roll back, and count nothing). Instead each pass:
   * 1. parks rows whose attempts are used up and whose last claim expired without an outcome
   *    (the publish hung past the lease, or the relay died);
   * 2. claims a batch in one statement, counting the attempt and setting a lease
   *    (`next_attempt_at`), so other replicas skip it (`FOR UPDATE SKIP LOCKED`);
   * 3. publishes (each publish bounded by the publisher's timeout and retries); if the batch
   *    fails, row by row, so one bad row cannot block the others;
   * 4. marks the published rows, and gives each failed row its error and a backoff, or parks it
   *    when that was its last attempt.
   */
  async relayOnce(graceMs = this.relayGraceMs): Promise<number> {
    await this.parkAbandoned();
    const rows = await this.claim(graceMs);
    if (rows.length === 0) return 0;
    const published: string[] = [];
    const failed: { row: ClaimedRow; error: unknown }[] = [];
    try {
      await this.publisher.publishMany(rows.map((row) => row.envelope));
      published.push(...rows.map((row) => row.id));
    } catch {
      for (const row of rows) {
        try {
          await this.publisher.publishMany([row.envelope]);
          published.push(row.id);
        } catch (error) {
          failed.push({ row, error });
        }
      }
    }
    if (published.length > 0) {
      metrics.outboxRelayed.inc(published.length);
      await this.markPublished(published);
      this.logger.info({ count: published.length }, 'outbox relay published messages left behind');
    }
    for (const { row, error } of failed) await this.recordFailure(row, error);
    return published.length;
  }

  /**
   * `attempts > 0` (implied by `attempts >= maxAttempts`, which is at least 1) states the
   * predicate of `outbox_messages_claimed_idx`, so the sweep reads only rows the relay claimed,
   * not every row written and not yet marked published.
   */
  private async parkAbandoned(): Promise<void> {
    const parked = await this.sql.$executeRaw`
      UPDATE outbox_messages
      SET parked_at = now(), next_attempt_at = NULL,
          last_error = left(coalesce(last_error || '; ', '') ||
            'attempt ' || attempts || ' had no outcome within the claim lease (publish hung, or the relay died)', 500)
      WHERE published_at IS NULL AND parked_at IS NULL AND attempts > 0
        AND attempts >= ${this.maxAttempts} AND next_attempt_at <= now()`;
    if (parked > 0) {
      metrics.outboxPublishFailures.inc({ path: 'relay' }, parked);
      this.logger.error(
        { count: parked, maxAttempts: this.maxAttempts },
        'outbox rows parked: attempts used up without an outcome',
      );
    }
  }

  private async claim(graceMs: number): Promise<ClaimedRow[]> {
    const rows = await this.sql.$queryRaw<ClaimedRow[]>`
      UPDATE outbox_messages o
      SET attempts = o.attempts + 1,
          next_attempt_at = now() + make_interval(secs => ${this.claimLeaseMs / 1000})
      FROM (
        SELECT id FROM outbox_messages
        WHERE published_at IS NULL AND parked_at IS NULL AND attempts < ${this.maxAttempts}
          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND created_at <= now() - make_interval(secs => ${graceMs / 1000})
          AND (${this.relaySubjects}::text[] IS NULL OR subject = ANY(${this.relaySubjects}::text[]))
        ORDER BY created_at
        LIMIT ${this.batchSize}
        FOR UPDATE SKIP LOCKED
      ) claimed
      WHERE o.id = claimed.id
      RETURNING o.id, o.envelope, o.attempts, o.created_at AS "createdAt"`;
    // RETURNING keeps no order: publish oldest first, as they were written.
    return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  private async recordFailure(row: ClaimedRow, error: unknown): Promise<void> {
    metrics.outboxPublishFailures.inc({ path: 'relay' });
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    const park = row.attempts >= this.maxAttempts;
    const retryInMs = Math.min(this.retryBackoffMs * 2 ** (row.attempts - 1), 5 * 60_000);
    await this.prisma.outboxMessage.update({
      where: { id: row.id },
      data: park
        ? { lastError: message, parkedAt: new Date(), nextAttemptAt: null }
        : { lastError: message, nextAttemptAt: new Date(Date.now() + retryInMs) },
    });
    if (park)
      this.logger.error(
        { err: error, messageId: row.id, attempts: row.attempts },
        'outbox message parked after its last attempt; retry it from the admin API',
      );
    else
      this.logger.warn(
        { err: error, messageId: row.id, attempts: row.attempts, retryInMs },
        'outbox relay could not publish a message; will retry',
      );
  }

  /** Parked rows, oldest parked first, from after the row `after` (keyset paging on id). */
  async parked(options: { after?: string; limit: number }): Promise<ParkedOutboxRow[]> {
    return this.prisma.outboxMessage.findMany({
      where: {
        parkedAt: { not: null },
        publishedAt: null,
        ...(options.after ? { id: { gt: options.after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: options.limit,
      select: {
        id: true,
        subject: true,
        attempts: true,
        lastError: true,
        createdAt: true,
        parkedAt: true,
      },
    }) as Promise<ParkedOutboxRow[]>;
  }

  /**
   * Puts a parked row back in the relay's queue with a fresh attempt budget (its last error is
   * kept until the next attempt replaces it). `not_found` when no such row exists, `not_parked`
   * when it exists but is not parked (already published, or still being retried).
   */
  async requeue(id: string): Promise<'requeued' | 'not_found' | 'not_parked'> {
    const { count } = await this.prisma.outboxMessage.updateMany({
      where: { id, parkedAt: { not: null }, publishedAt: null },
      data: { parkedAt: null, attempts: 0, nextAttemptAt: null },
    });
    if (count === 1) return 'requeued';
    const exists = await this.prisma.outboxMessage.count({ where: { id } });
    return exists > 0 ? 'not_parked' : 'not_found';
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
        await this.markPublished(ids);
      } catch (error) {
        // Unmarked rows are republished by the relay and deduplicated by JetStream.
        this.logger.warn({ err: error, count: ids.length }, 'could not mark outbox rows published');
      }
    });
    await this.marking;
  }

  /**
   * Marks rows published, the relay's and the dispatched ones alike (a dispatched row a relay
   * had claimed meanwhile loses its lease too): one statement text whatever the count, so it
   * is prepared once per connection.
   */
  private async markPublished(ids: readonly string[]): Promise<void> {
    await this.sql.$executeRaw`
      UPDATE outbox_messages SET published_at = now(), next_attempt_at = NULL
      WHERE id = ANY(${[...ids]}::uuid[])`;
  }

  private scheduleMark(): void {
    if (this.pendingMarks.size >= this.batchSize) {
      void this.flushMarks();
      return;
    }
    this.markTimer ??= setTimeout(() => void this.flushMarks(), 20);
  }
}
