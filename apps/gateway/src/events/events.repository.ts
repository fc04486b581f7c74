import { Inject, Injectable } from '@nestjs/common';
import { directSql, Prisma, type PrismaClient, type RawStatements } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/**
 * A place in the event log's read order: (writing transaction id, position). Positions come
 * from a sequence and are taken before commit, so they do not follow commit order; transaction
 * ids below the oldest transaction still open belong to finished transactions only, so reading
 * in (xid, position) order and never above that horizon never passes a row still to appear.
 */
export interface FeedCursor {
  xid: bigint;
  position: bigint;
}

export const FEED_START: FeedCursor = { xid: 0n, position: 0n };

export function compareCursors(a: FeedCursor, b: FeedCursor): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return 0;
}

export interface EventRow {
  position: bigint;
  xid: bigint;
  tenantId: string | null;
  type: string;
  envelope: unknown;
}

/** Which types a reader wants: exact full types and/or `roam.evt.v1.<area>.` prefixes. */
export interface TypeFilter {
  types: string[];
  prefixes: string[];
}

interface RawRow {
  position: bigint;
  xid: string;
  tenantId: string | null;
  type: string;
  envelope: unknown;
}

const toRow = (row: RawRow): EventRow => ({ ...row, xid: BigInt(row.xid) });

// `xid` is selected as text (Prisma has no xid8): every ORDER BY names `events.xid`, the
// column, since a bare `xid` there means this text alias and sorts '1017' before '998'.
const columns = Prisma.sql`position, xid::text AS xid, tenant_id AS "tenantId", type, envelope`;

function typeCondition(filter: TypeFilter | undefined): Prisma.Sql {
  if (!filter) return Prisma.sql`TRUE`;
  const alternatives = [
    ...(filter.types.length > 0 ? [Prisma.sql`type = ANY(${filter.types}::text[])`] : []),
    ...filter.prefixes.map((prefix) => Prisma.sql`starts_with(type, ${prefix})`),
  ];
  return alternatives.length > 0
    ? Prisma.sql`(${Prisma.join(alternatives, ' OR ')})`
    : Prisma.sql`FALSE`;
}

/**
 * Events of one job group: its `group.finished` events and the events of its jobs (subject
 * `jobs/<id>`, each looked up by primary key).
 */
function groupCondition(tenantId: string, group: string | undefined): Prisma.Sql {
  if (group === undefined) return Prisma.sql`TRUE`;
  return Prisma.sql`(subject = ${`groups/${group}`} OR EXISTS (
    SELECT 1 FROM jobs j
    WHERE j.id = (CASE WHEN subject ~ '^jobs/[0-9a-f-]{36}$' THEN substr(subject, 6)::uuid END)
      AND j.tenant_id = ${tenantId} AND j.group_name = ${group}))`;
}

/** The `events` log written by the outbox. Tenant reads take the tenant id. */
@Injectable()
export class EventsRepository {
  /** Its reads run outside Prisma's query pipeline (docs/architecture.md#direct-sql). */
  private readonly sql: RawStatements;

  constructor(@Inject(PRISMA) prisma: PrismaClient) {
    this.sql = directSql(prisma);
  }

  /** One tenant's events with `after < (xid, position) ≤ upto`, in read order. */
  async list(
    tenantId: string,
    query: {
      after: FeedCursor;
      upto: FeedCursor;
      limit: number;
      filter?: TypeFilter | undefined;
      group?: string | undefined;
    },
  ): Promise<EventRow[]> {
    const rows = await this.sql.$queryRaw<RawRow[]>`
      SELECT ${columns} FROM events
      WHERE tenant_id = ${tenantId}
        AND (xid, position) > (${query.after.xid.toString()}::xid8, ${query.after.position})
        AND (xid, position) <= (${query.upto.xid.toString()}::xid8, ${query.upto.position})
        AND ${typeCondition(query.filter)}
        AND ${groupCondition(tenantId, query.group)}
      ORDER BY events.xid, events.position
      LIMIT ${query.limit}`;
    return rows.map(toRow);
  }

  /**
   * Every tenant's events after `after` written by transactions that are over (below the
   * oldest one still open): what the shared feed polls.
   */
  async after(after: FeedCursor, limit: number): Promise<EventRow[]> {
    const rows = await this.sql.$queryRaw<RawRow[]>`
      SELECT ${columns} FROM events
      WHERE (xid, position) > (${after.xid.toString()}::xid8, ${after.position})
        AND xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY events.xid, events.position
      LIMIT ${limit}`;
    return rows.map(toRow);
  }

  /** The last event the feed may read now: where a feed starting now begins. */
  async end(): Promise<FeedCursor> {
    const rows = await this.sql.$queryRaw<{ position: bigint; xid: string }[]>`
      SELECT position, xid::text AS xid FROM events
      WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY events.xid DESC, events.position DESC
      LIMIT 1`;
    const row = rows[0];
    return row ? { xid: BigInt(row.xid), position: row.position } : FEED_START;
  }

  /**
   * The cursor of a position a client hands back (`after`, `Last-Event-ID`). A position whose
   * row is gone (retention) resumes before every later position: a few events may come again,
   * none is lost. Undefined when no later event exists either.
   */
  async cursorAt(position: bigint): Promise<FeedCursor | undefined> {
    if (position === 0n) return FEED_START;
    const rows = await this.sql.$queryRaw<{ xid: string | null }[]>`
      SELECT coalesce(
        (SELECT xid FROM events WHERE position = ${position}),
        (SELECT min(xid) FROM events WHERE position > ${position}))::text AS xid`;
    const xid = rows[0]?.xid;
    return xid === null || xid === undefined ? undefined : { xid: BigInt(xid), position };
  }

  /**
   * Whether committed events wait behind a transaction still open (their xid is at or above
   * the horizon), and that horizon: how the feed notices it is held back. The newest xid is
   * one step down the `(xid, position)` index; an `EXISTS (… WHERE xid >= horizon)` was planned
   * as a scan of every event when none waits, the usual answer.
   */
  async waiting(): Promise<{ horizon: bigint; waiting: boolean }> {
    const rows = await this.sql.$queryRaw<{ horizon: string; waiting: boolean }[]>`
      SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon,
        coalesce((SELECT max(xid) FROM events) >= pg_snapshot_xmin(pg_current_snapshot()), false)
          AS waiting`;
    const row = rows[0]!;
    return { horizon: BigInt(row.horizon), waiting: row.waiting };
  }
}
