import { Inject, Injectable } from '@nestjs/common';
import type { NotifierConfig } from '@roam/config';
import type { PrismaClient } from '@roam/db';
import { APP_CONFIG, LOGGER, PeriodicSweep, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

const BATCH = 1000;
const DAY_MS = 86_400_000;

/**
 * Keeps the event history from growing forever: finished webhook deliveries (their attempts go
 * with them) older than WEBHOOK_RETENTION_DAYS, and events older than EVENTS_RETENTION_DAYS,
 * deleted oldest first in batches every RETENTION_INTERVAL_MS. Pending deliveries stay until
 * they finish, however old.
 */
@Injectable()
export class HistoryRetention extends PeriodicSweep<{ deliveries: number; events: number }> {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: NotifierConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super('event history retention sweep', config.RETENTION_INTERVAL_MS, logger);
  }

  /** One sweep; returns how many deliveries and events it deleted. */
  async sweep(now: Date): Promise<{ deliveries: number; events: number }> {
    const deliveriesBefore = new Date(now.getTime() - this.config.WEBHOOK_RETENTION_DAYS * DAY_MS);
    const eventsBefore = new Date(now.getTime() - this.config.EVENTS_RETENTION_DAYS * DAY_MS);
    const deliveries = await this.inBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM webhook_deliveries WHERE id IN (
          SELECT id FROM webhook_deliveries
          WHERE created_at < ${deliveriesBefore} AND status IN ('succeeded', 'failed')
          ORDER BY created_at LIMIT ${BATCH})`,
    );
    const events = await this.inBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM events WHERE position IN (
          SELECT position FROM events WHERE time < ${eventsBefore} ORDER BY time LIMIT ${BATCH})`,
    );
    if (deliveries + events > 0)
      this.logger.info({ deliveries, events }, 'deleted event history past its retention');
    return { deliveries, events };
  }

  private async inBatches(remove: () => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await remove();
      total += removed;
      if (removed < BATCH) return total;
    }
  }
}
