import { Inject, Injectable } from '@nestjs/common';
import { createEnvelope, type Envelope, subjects } from '@roam/contracts';
import { JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { ProblemError, problemTypes } from '@roam/runtime';

import { SOURCE } from '../source.js';
import { type GroupRow, GroupsRepository } from './groups.repository.js';

/** Jobs cancelled per transaction when a whole group is cancelled. */
const CANCEL_BATCH = 500;

export const groupNotFound = (name: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `group ${name} not found`);

@Injectable()
export class GroupsService {
  private readonly ledger: JobLedger;

  constructor(
    private readonly repository: GroupsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  async get(tenantId: string, name: string): Promise<GroupRow> {
    const group = await this.repository.find(tenantId, name);
    if (!group) throw groupNotFound(name);
    return group;
  }

  list(tenantId: string, query: { after?: string; limit: number }): Promise<GroupRow[]> {
    return this.repository.list(tenantId, query);
  }

  /**
   * Cancels every unfinished job of the group, `CANCEL_BATCH` per transaction through the
   * ledger (each with its `job.cancel` command, as a single cancel). Idempotent: a group whose
   * jobs have all finished is returned as it is, with `cancelled: 0`.
   */
  async cancel(tenantId: string, name: string): Promise<{ cancelled: number; group: GroupRow }> {
    await this.get(tenantId, name);
    let cancelled = 0;
    for (;;) {
      const outcome = await this.outbox.transaction(async (tx) => {
        const jobs = await this.repository.lockUnfinished(tx, tenantId, name, CANCEL_BATCH);
        if (jobs.length === 0) return { result: undefined, messages: [] };
        const now = new Date();
        const result = await this.ledger.apply(
          tx,
          jobs.map((job) => ({
            job,
            events: [
              {
                type: 'cancel' as const,
                reason: 'CancelledByUser' as const,
                message: `group ${name} cancelled through the API`,
              },
            ],
            set: { cancelRequestedAt: now, finishedAt: now },
          })),
        );
        const messages: Envelope[] = result.written.map(({ change }) =>
          createEnvelope(
            subjects.job.cancel,
            { jobId: change.job.id },
            { source: SOURCE, tenantId, subject: `jobs/${change.job.id}` },
          ),
        );
        return { result: { events: result.envelopes, count: result.written.length }, messages };
      });
      if (!outcome) break;
      await this.outbox.dispatch(outcome.events);
      cancelled += outcome.count;
      // Rows locked but not written (a state the machine refuses) would come back forever.
      if (outcome.count === 0) break;
    }
    return { cancelled, group: await this.get(tenantId, name) };
  }
}
