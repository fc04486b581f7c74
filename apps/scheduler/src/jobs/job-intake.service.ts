import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { LOGGER, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

type Received = 'recorded' | 'already-seen' | 'unknown-job';

interface Waiter {
  jobId: string;
  resolve(result: Received): void;
  reject(error: unknown): void;
}

/** Most ids one seen-at statement carries. */
const MAX_BATCH = 1000;

@Injectable()
export class JobIntakeService {
  /** Submits waiting for the next statement (group commit: one in flight, the rest gather). */
  private waiting: Waiter[] = [];
  private flushing = false;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Records that the scheduler has seen the job. Conditional on `seen_at IS NULL`, so a
   * redelivered command changes nothing the second time. Submits handled at the same time
   * share one statement: while one runs, the next ones gather for the following one.
   */
  receive(jobId: string, deliveryCount: number): Promise<Received> {
    const result = new Promise<Received>((resolve, reject) =>
      this.waiting.push({ jobId, resolve, reject }),
    );
    if (!this.flushing) void this.flush();
    if (deliveryCount > 1)
      void result.then((outcome) =>
        this.logger.info({ jobId, deliveryCount, outcome }, 'submit redelivered'),
      );
    return result;
  }

  /** The batch form: one statement for every job of a `POST /api/v1/jobs:batch`. */
  async receiveMany(jobIds: readonly string[]): Promise<number> {
    const count = await this.prisma.$executeRaw`
      UPDATE jobs SET seen_at = now() WHERE id = ANY(${jobIds}::uuid[]) AND seen_at IS NULL`;
    this.logger.info({ count, batch: jobIds.length }, 'job batch received');
    return count;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        try {
          const outcome = await this.record(batch.map((w) => w.jobId));
          for (const w of batch) w.resolve(outcome.get(w.jobId) ?? 'unknown-job');
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One UPDATE for the batch; only ids it did not change are looked up (rare: redeliveries). */
  private async record(jobIds: string[]): Promise<Map<string, Received>> {
    const ids = [...new Set(jobIds)];
    const outcome = new Map<string, Received>();
    const recorded = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE jobs SET seen_at = now() WHERE id = ANY(${ids}::uuid[]) AND seen_at IS NULL
      RETURNING id::text AS id`;
    for (const { id } of recorded) outcome.set(id, 'recorded');
    const rest = ids.filter((id) => !outcome.has(id));
    if (rest.length > 0) {
      const existing = await this.prisma.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM jobs WHERE id = ANY(${rest}::uuid[])`;
      for (const { id } of existing) outcome.set(id, 'already-seen');
      for (const id of rest)
        if (!outcome.has(id))
          // Commands are published after commit, so a missing job was deleted since.
          this.logger.warn({ jobId: id }, 'submit command for a job that does not exist');
    }
    return outcome;
  }
}
