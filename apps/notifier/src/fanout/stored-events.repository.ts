import { Inject, Injectable } from '@nestjs/common';
import type { Envelope } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

/** An event as roam committed it (`events`), which the bus message only points at. */
export interface StoredEvent {
  id: string;
  tenantId: string | null;
  type: string;
  time: Date;
  envelope: Envelope;
}

@Injectable()
export class StoredEventsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** The committed events among `ids`, by id; an id roam never wrote is absent. */
  async byIds(ids: readonly string[]): Promise<Map<string, StoredEvent>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.event.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true, tenantId: true, type: true, time: true, envelope: true },
    });
    return new Map(
      rows.map((row) => [row.id, { ...row, envelope: row.envelope as unknown as Envelope }]),
    );
  }
}
