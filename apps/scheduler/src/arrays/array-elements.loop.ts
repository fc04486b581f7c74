import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { materializeArrayElements } from '@roam/jobs';
import { APP_CONFIG, LOGGER, PeriodicSweep, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

/** Chunks created per pass at most, so one pass stays short; the next pass goes on. */
const CHUNKS_PER_PASS = 40;

/**
 * Creates the element rows a large array's submit left out (`materializeArrayElements`), a
 * chunk per transaction, oldest array first, on the admission timer (docs/architecture.md#rule-3):
 * admission offers only elements that have a row, and creating them runs far ahead of it
 * (thousands a second against admission's hundreds). Memory stays bounded: the database makes
 * the rows, nothing is read into this process.
 */
@Injectable()
export class ArrayElementsLoop extends PeriodicSweep<number> {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(APP_CONFIG) config: { ADMISSION_INTERVAL_MS: number },
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super('array elements', config.ADMISSION_INTERVAL_MS, logger);
  }

  /** One pass: chunks until no array lacks element rows. Returns how many rows it created. */
  async sweep(): Promise<number> {
    let created = 0;
    for (let chunk = 0; chunk < CHUNKS_PER_PASS; chunk++) {
      const step = await materializeArrayElements(this.prisma);
      if (!step) break;
      this.logger.debug({ arrayId: step.arrayId, created: step.created }, 'array elements created');
      created += step.created;
    }
    return created;
  }
}
