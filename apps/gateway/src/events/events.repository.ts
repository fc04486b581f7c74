import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

export interface EventRow {
  position: bigint;
  tenantId: string | null;
  type: string;
  envelope: unknown;
}

/** Which types a reader wants: exact full types and/or `roam.evt.v1.<area>.` prefixes. */
export interface TypeFilter {
  types: string[];
  prefixes: string[];
}

const columns = { position: true, tenantId: true, type: true, envelope: true } as const;

/** The `events` log written by the outbox. Tenant reads take the tenant id. */
@Injectable()
export class EventsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** One tenant's events with `after < position ≤ upto`, oldest first. */
  list(
    tenantId: string,
    query: { after: bigint; upto: bigint; limit: number; filter?: TypeFilter },
  ): Promise<EventRow[]> {
    const where: Prisma.EventWhereInput = {
      tenantId,
      position: { gt: query.after, lte: query.upto },
    };
    if (query.filter) {
      where.OR = [
        { type: { in: query.filter.types } },
        ...query.filter.prefixes.map((prefix) => ({ type: { startsWith: prefix } })),
      ];
    }
    return this.prisma.event.findMany({
      where,
      orderBy: { position: 'asc' },
      take: query.limit,
      select: columns,
    });
  }

  /** Every tenant's events after a position: what the shared feed polls. */
  after(position: bigint, limit: number): Promise<EventRow[]> {
    return this.prisma.event.findMany({
      where: { position: { gt: position } },
      orderBy: { position: 'asc' },
      take: limit,
      select: columns,
    });
  }

  async maxPosition(): Promise<bigint> {
    const { _max } = await this.prisma.event.aggregate({ _max: { position: true } });
    return _max.position ?? 0n;
  }
}
