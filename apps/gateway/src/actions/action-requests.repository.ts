import { Inject, Injectable } from '@nestjs/common';
import type { Action, ActionStep, Prisma, PrismaClient } from '@roam/db';
import type { Tx } from '@roam/messaging';
import { PRISMA } from '@roam/runtime';

export interface ActionFilter {
  type?: string;
  nodePool?: string;
  requestor?: string;
  state?: Action['state'];
  since?: Date;
  until?: Date;
  /** Keyset: rows strictly older than this (created_at, id), newest first. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Postgres access for the actions API: records action requests and reads them back; no rules here. */
@Injectable()
export class ActionRequestsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /**
   * Serialises submissions for one pool until the transaction ends, so the "one action in
   * flight per pool" check and the insert that follows cannot interleave with another's.
   */
  async lockPool(tx: Tx, pool: string): Promise<void> {
    await tx.$queryRaw`SELECT true AS locked FROM pg_advisory_xact_lock(hashtextextended(${`roam:action-pool:${pool}`}, 0))`;
  }

  findIn(tx: Tx, id: string): Promise<Action | null> {
    return tx.action.findUnique({ where: { id } });
  }

  /** The oldest real (not dry-run) action on the pool that has not ended. */
  inFlightOn(tx: Tx, pool: string): Promise<Action | null> {
    return tx.action.findFirst({
      where: { nodePool: pool, dryRun: false, state: { in: ['pending', 'running'] } },
      orderBy: { createdAt: 'asc' },
    });
  }

  create(tx: Tx, data: Prisma.ActionCreateInput): Promise<Action> {
    return tx.action.create({ data });
  }

  find(id: string): Promise<Action | null> {
    return this.prisma.action.findUnique({ where: { id } });
  }

  steps(id: string): Promise<ActionStep[]> {
    return this.prisma.actionStep.findMany({ where: { actionId: id }, orderBy: { index: 'asc' } });
  }

  list(filter: ActionFilter): Promise<Action[]> {
    const where: Prisma.ActionWhereInput = {
      ...(filter.type ? { type: filter.type } : {}),
      ...(filter.nodePool ? { nodePool: filter.nodePool } : {}),
      ...(filter.requestor ? { requestor: filter.requestor } : {}),
      ...(filter.state ? { state: filter.state } : {}),
      createdAt: {
        ...(filter.since ? { gte: filter.since } : {}),
        ...(filter.until ? { lt: filter.until } : {}),
      },
      ...(filter.after
        ? {
            OR: [
              { createdAt: { lt: filter.after.createdAt } },
              { createdAt: filter.after.createdAt, id: { lt: filter.after.id } },
            ],
          }
        : {}),
    };
    return this.prisma.action.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
  }
}
