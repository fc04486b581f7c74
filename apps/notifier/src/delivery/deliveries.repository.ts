import { Inject, Injectable } from '@nestjs/common';
import { directSql, type Prisma, type PrismaClient, type RawStatements } from '@roam/db';
import { PRISMA } from '@roam/runtime';
import { EVENT_TYPE_PREFIX, subjects } from '@roam/contracts';

import type { WebhookResponse } from './sender.js';

/** A claimed delivery with what is needed to sign and send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  tenantId: string;
  eventType: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
}

export interface ClaimRequest {
  /** Deliveries wanted in total. */
  limit: number;
  /** Default per-endpoint allowance. */
  perEndpoint: number;
  /** Endpoints with requests already in flight here, and how many more each may take. */
  partial: Map<string, number>;
  /** How long the claim holds: after this, another notifier may take the delivery over. */
  leaseMs: number;
}

/** An event message from the bus: only a pointer to the event roam committed (`events`). */
export interface BusEvent {
  id: string;
  tenantId: string;
  type: string;
}

/** What one fan-out did: deliveries created, and the messages that did not match a commit. */
export interface FanOutResult {
  created: number;
  /** Ids on the bus roam never committed: dropped. */
  unknown: string[];
  /** Messages whose tenant or type differ from the committed event's (which is delivered). */
  altered: { id: string; tenantId: string | null; type: string }[];
}

/**
 * Deliveries and attempts in Postgres. Claims are leases: a claim moves `next_attempt_at`
 * forward by the lease, so a notifier that dies mid-attempt leaves the delivery due again
 * once the lease ends, and another picks it up (at-least-once).
 */
@Injectable()
export class DeliveriesRepository {
  /** Its statements run outside Prisma's query pipeline (docs/architecture.md#direct-sql). */
  private readonly sql: RawStatements;

  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {
    this.sql = directSql(prisma);
  }

  /**
   * Claims due deliveries round-robin over active endpoints: at most `perEndpoint` (or the
   * endpoint's remaining allowance) per endpoint, ordered by rank within the endpoint first, so
   * one endpoint's backlog never fills a batch while another endpoint waits.
   * `FOR UPDATE SKIP LOCKED` keeps concurrent notifiers off each other's rows.
   */
  async claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    if (request.limit <= 0) return [];
    const ids = [...request.partial.keys()];
    const free = ids.map((id) => request.partial.get(id) ?? 0);
    return this.sql.$queryRaw<ClaimedDelivery[]>`
      WITH candidates AS (
        SELECT d.id, d.endpoint_id, d.next_attempt_at
        FROM webhook_endpoints e
        CROSS JOIN LATERAL (
          SELECT w.id, w.endpoint_id, w.next_attempt_at
          FROM webhook_deliveries w
          WHERE w.endpoint_id = e.id AND w.status = 'pending' AND w.next_attempt_at <= now()
          ORDER BY w.next_attempt_at
          LIMIT ${request.perEndpoint}
          FOR UPDATE OF w SKIP LOCKED
        ) d
        WHERE e.status = 'active'
      ),
      ranked AS (
        SELECT c.id, c.next_attempt_at, COALESCE(b.free, ${request.perEndpoint}) AS allowance,
               row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at) AS rank
        FROM candidates c
        LEFT JOIN unnest(${ids}::uuid[], ${free}::int[]) AS b(endpoint_id, free)
          ON b.endpoint_id = c.endpoint_id
      ),
      chosen AS (
        SELECT id FROM ranked WHERE rank <= allowance
        ORDER BY rank, next_attempt_at
        LIMIT ${request.limit}
      )
      UPDATE webhook_deliveries w
      SET next_attempt_at = now() + make_interval(secs => ${request.leaseMs / 1000})
      FROM chosen, webhook_endpoints e
      WHERE w.id = chosen.id AND e.id = w.endpoint_id
      RETURNING w.id, w.endpoint_id AS "endpointId", w.tenant_id AS "tenantId",
        w.event_type AS "eventType", w.payload, w.attempts, e.url, e.secret,
        e.previous_secret AS "previousSecret",
        e.previous_secret_expires_at AS "previousSecretExpiresAt",
        e.failing_since AS "failingSince"`;
  }

  /** Ends the lease of claimed deliveries that were never started: due again at once. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.$executeRaw`
      UPDATE webhook_deliveries SET next_attempt_at = now()
      WHERE id = ANY(${[...ids]}::uuid[]) AND status = 'pending'`;
  }

  /**
   * Records one attempt and the delivery's new state in the caller's transaction. The update
   * is conditional on the delivery still being pending: if a redelivery or another notifier
   * finished it meanwhile, this attempt is recorded but changes nothing else.
   */
  async recordAttempt(
    tx: Prisma.TransactionClient,
    deliveryId: string,
    response: WebhookResponse,
    next: { status: 'pending' | 'succeeded' | 'failed'; nextAttemptAt: Date | null },
  ): Promise<void> {
    await tx.webhookAttempt.create({
      data: {
        deliveryId,
        durationMs: response.durationMs,
        statusCode: response.statusCode ?? null,
        error: response.error?.slice(0, 500) ?? null,
        responseBody: response.body ?? null,
      },
    });
    await tx.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: {
        status: next.status,
        nextAttemptAt: next.nextAttemptAt,
        attempts: { increment: 1 },
        lastAttemptAt: new Date(),
      },
    });
  }

  /**
   * The common case in one statement, without an interactive transaction: a success on an
   * endpoint that was not failing changes only the attempt log and the delivery.
   */
  /**
   * Records first-time successes of many deliveries in one statement: their attempts, and each
   * delivery succeeded (if still pending). The common path, so it is batched.
   */
  async recordSuccesses(
    successes: readonly { deliveryId: string; response: WebhookResponse }[],
  ): Promise<void> {
    if (successes.length === 0) return;
    const ids = successes.map((s) => s.deliveryId);
    const durations = successes.map((s) => s.response.durationMs);
    const codes = successes.map((s) => s.response.statusCode ?? null);
    const bodies = successes.map((s) => s.response.body ?? null);
    await this.sql.$executeRaw`
      WITH input AS (
        SELECT id, duration_ms, status_code, response_body
        FROM unnest(${ids}::uuid[], ${durations}::int[], ${codes}::int[], ${bodies}::text[])
          AS t(id, duration_ms, status_code, response_body)
      ),
      attempt AS (
        INSERT INTO webhook_attempts (delivery_id, duration_ms, status_code, error, response_body)
        SELECT id, duration_ms, status_code, NULL, response_body FROM input
      )
      UPDATE webhook_deliveries d
      SET status = 'succeeded', next_attempt_at = NULL, attempts = d.attempts + 1,
          last_attempt_at = now()
      FROM input WHERE d.id = input.id AND d.status = 'pending'`;
  }

  async markEndpointHealthy(tx: Prisma.TransactionClient, endpointId: string): Promise<void> {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, failingSince: { not: null } },
      data: { failingSince: null },
    });
  }

  async markEndpointFailing(
    tx: Prisma.TransactionClient,
    endpointId: string,
    since: Date,
  ): Promise<void> {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, failingSince: null },
      data: { failingSince: since },
    });
  }

  /** Disables an active endpoint; returns it when this call did (so the event is sent once). */
  async disableEndpoint(
    tx: Prisma.TransactionClient,
    endpointId: string,
    reason: string,
    since: Date,
  ): Promise<{ id: string; tenantId: string; url: string } | undefined> {
    const { count } = await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, status: 'active' },
      data: { status: 'disabled', disabledReason: reason, failingSince: since },
    });
    if (count === 0) return undefined;
    return tx.webhookEndpoint.findUniqueOrThrow({
      where: { id: endpointId },
      select: { id: true, tenantId: true, url: true },
    });
  }

  /**
   * Fan-out: one pending delivery per active endpoint of the tenant subscribed to the event,
   * created after it happened, for many bus messages in one statement. What is delivered is
   * the event as committed in `events`, joined there by id: its payload never travels to this
   * process and back, and an event no endpoint wants costs one index lookup. Events of no
   * tenant and test events are never fanned out. The unique (endpoint, event) makes a second
   * run a no-op, so a redelivered NATS message creates nothing twice.
   */
  async fanOut(messages: readonly BusEvent[]): Promise<FanOutResult> {
    if (messages.length === 0) return { created: 0, unknown: [], altered: [] };
    const ids = messages.map((m) => m.id);
    const tenants = messages.map((m) => m.tenantId);
    const types = messages.map((m) => m.type);
    const [row] = await this.sql.$queryRaw<
      { created: bigint; unknown: string[]; altered: FanOutResult['altered'] }[]
    >`
      WITH msg AS (
        SELECT id, tenant_id, type
        FROM unnest(${ids}::uuid[], ${tenants}::text[], ${types}::text[]) AS m(id, tenant_id, type)
      ), ev AS MATERIALIZED (
        SELECT m.id AS message_id, m.tenant_id AS message_tenant, m.type AS message_type,
               e.id, e.tenant_id, e.type, e.time, e.envelope,
               CASE WHEN starts_with(e.type, ${EVENT_TYPE_PREFIX})
                    THEN substr(e.type, ${EVENT_TYPE_PREFIX.length + 1}) ELSE e.type END AS short_type
        FROM msg m LEFT JOIN events e ON e.id = m.id
      ), ins AS (
        INSERT INTO webhook_deliveries
          (id, endpoint_id, tenant_id, event_id, event_type, payload, status, attempts, next_attempt_at)
        SELECT gen_random_uuid(), w.id, w.tenant_id, ev.id, ev.type, ev.envelope, 'pending', 0, now()
        FROM ev JOIN webhook_endpoints w
          ON w.tenant_id = ev.tenant_id AND w.status = 'active' AND w.created_at <= ev.time
          AND (cardinality(w.events) = 0 OR w.events IS NULL OR ev.short_type = ANY(w.events)
               OR split_part(ev.short_type, '.', 1) || '.*' = ANY(w.events) OR '*' = ANY(w.events))
        WHERE ev.type <> ${subjects.webhook.test}
        ON CONFLICT (endpoint_id, event_id) DO NOTHING
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ins) AS created,
             coalesce(array_agg(message_id::text) FILTER (WHERE id IS NULL), '{}') AS unknown,
             coalesce(json_agg(json_build_object('id', id, 'tenantId', tenant_id, 'type', type))
               FILTER (WHERE id IS NOT NULL
                 AND (tenant_id IS DISTINCT FROM message_tenant OR type <> message_type)),
               '[]') AS altered
      FROM ev`;
    return {
      created: Number(row?.created ?? 0),
      unknown: row?.unknown ?? [],
      altered: row?.altered ?? [],
    };
  }
}
