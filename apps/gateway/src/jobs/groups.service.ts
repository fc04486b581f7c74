import { Inject, Injectable } from '@nestjs/common';
import { cancelInBatches, JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { ProblemError, problemTypes } from '@roam/runtime';

import { SOURCE } from '../source.js';
import { type GroupRow, GroupsRepository } from './groups.repository.js';

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
   * Cancels every unfinished job of the group through the ledger, in batches
   * (`cancelInBatches`). Idempotent: a group whose jobs have all finished is returned as it is,
   * with `cancelled: 0`.
   */
  async cancel(tenantId: string, name: string): Promise<{ cancelled: number; group: GroupRow }> {
    await this.get(tenantId, name);
    // Arrays of the group whose element rows are not all created yet: the reconciler's
    // array-cancel walk cancels those rows as they come.
    await this.repository.requestCancelOfLargeArrays(tenantId, name);
    const cancelled = await cancelInBatches<string>(
      this.outbox,
      this.ledger,
      SOURCE,
      tenantId,
      (tx, after, limit) => this.repository.lockUnfinished(tx, tenantId, name, after, limit),
      `group ${name} cancelled through the API`,
    );
    return { cancelled, group: await this.get(tenantId, name) };
  }
}
