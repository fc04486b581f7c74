import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { LOGGER, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

@Injectable()
export class JobIntakeService {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Records that the scheduler has seen the job. Conditional on `seen_at IS NULL`, so a
   * redelivered command changes nothing the second time.
   */
  async receive(
    jobId: string,
    deliveryCount: number,
  ): Promise<'recorded' | 'already-seen' | 'unknown-job'> {
    const { count } = await this.prisma.job.updateMany({
      where: { id: jobId, seenAt: null },
      data: { seenAt: new Date() },
    });
    if (count === 1) {
      this.logger.info({ jobId, deliveryCount }, 'job received');
      return 'recorded';
    }
    const exists = await this.prisma.job.count({ where: { id: jobId } });
    if (exists === 0) {
      // Commands are published after commit, so a missing job was deleted since: nothing to do.
      this.logger.warn({ jobId }, 'submit command for a job that does not exist');
      return 'unknown-job';
    }
    return 'already-seen';
  }

  /** The batch form: one statement for every job of a `POST /api/v1/jobs:batch`. */
  async receiveMany(jobIds: readonly string[]): Promise<number> {
    const { count } = await this.prisma.job.updateMany({
      where: { id: { in: [...jobIds] }, seenAt: null },
      data: { seenAt: new Date() },
    });
    this.logger.info({ count, batch: jobIds.length }, 'job batch received');
    return count;
  }
}
