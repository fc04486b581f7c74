import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { cancelArrayElements, JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

import type { ReconcilerConfig } from './reconciler.config.js';
import { SOURCE } from './source.js';

/** Arrays taken per pass; each is walked to its end before the next. */
const ARRAYS_PER_PASS = 10;

/**
 * Does the cancels the gateway accepted (202) for arrays larger than one batch: on a timer
 * (architecture rule 3), every array with `cancel_requested_at` and unfinished elements has
 * them cancelled through the ledger, a batch per transaction, a `job.cancel` command for each
 * element that has something to stop (`cancelInBatches`). The walk locks each batch's
 * elements, so two replicas on one array wait for each other's batch and skip what it
 * cancelled; a replica that dies mid-walk leaves the rest to the next pass. Admission offers
 * no element of such an array meanwhile, so rows written after the request wait for the walk.
 */
@Injectable()
export class ArrayCancelLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;
  private readonly ledger: JobLedger;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(APP_CONFIG) config: ReconcilerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
    this.loop = new Loop({
      name: 'array-cancel',
      intervalMs: config.RECONCILE_INTERVAL_MS,
      logger,
      pass: () => this.pass(),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass: the oldest requested cancels first. Returns how many elements it cancelled. */
  async pass(): Promise<number> {
    const arrays = await this.prisma.$queryRaw<{ id: string; tenant_id: string }[]>`
      SELECT id::text AS id, tenant_id FROM job_arrays
      WHERE cancel_requested_at IS NOT NULL
        AND submitted + queued + admitted + running > 0
      ORDER BY cancel_requested_at
      LIMIT ${ARRAYS_PER_PASS}`;
    let cancelled = 0;
    for (const array of arrays) {
      const started = performance.now();
      const count = await cancelArrayElements(this.outbox, this.ledger, SOURCE, {
        id: array.id,
        tenantId: array.tenant_id,
      });
      this.logger.info(
        { arrayId: array.id, cancelled: count, ms: Math.round(performance.now() - started) },
        'array cancel walked',
      );
      cancelled += count;
    }
    return cancelled;
  }
}
