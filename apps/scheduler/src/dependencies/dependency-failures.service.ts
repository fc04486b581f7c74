import { Inject, Injectable } from '@nestjs/common';
import type { Envelope } from '@roam/contracts';
import { failedDependencyEvent } from '@roam/domain';
import { type JobChange, JobLedger } from '@roam/jobs';
import { Outbox } from '@roam/messaging';
import { LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import { SOURCE } from '../source.js';
import {
  type FailedDependency,
  DependencyFailuresRepository,
} from './dependency-failures.repository.js';

/** Failed dependencies handled per transaction, and elements of an array cancelled per one. */
const BATCH = 200;
/** Transactions one pass runs at most; the rest waits for the next pass. */
const MAX_ROUNDS = 50;

/**
 * Acts on dependencies that can no longer be met (the database marks them `failed` as their
 * targets end, docs/architecture.md#rule-11): each dependent is cancelled with reason
 * `DependencyFailed` through the job ledger, or queued as `DependencyNeverSatisfied` when its
 * spec says `on_dependency_failure: keep`; a dependent array has every unfinished element
 * cancelled, a batch per transaction. Level-triggered (rule 3): a pass picks up whatever is
 * left, and writes are guarded by each job's seq, so two passes at once cannot double a change.
 */
@Injectable()
export class DependencyFailuresService {
  private readonly ledger: JobLedger;

  constructor(
    private readonly repository: DependencyFailuresRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ledger = new JobLedger(outbox, SOURCE);
  }

  /** One pass; returns how many jobs it changed. */
  async settle(): Promise<number> {
    let changed = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (!(await this.repository.anyFailed())) break;
      const outcome = await this.outbox.transaction(async (tx) => {
        const failed = await this.repository.failed(tx, BATCH);
        if (failed.length === 0) return { result: undefined, messages: [] };
        const handled: bigint[] = [];
        const changes: JobChange[] = [];
        const jobs = failed.filter((d) => d.jobId !== null);
        const locked = await this.repository.lockUnfinished(tx, {
          ids: [...new Set(jobs.map((d) => d.jobId!))],
        });
        const byId = new Map(locked.map((job) => [job.id, job]));
        for (const d of jobs) {
          const job = byId.get(d.jobId!);
          byId.delete(d.jobId!);
          if (job) changes.push(this.change(job, d));
          handled.push(d.id);
        }
        const arrays = new Map<string, FailedDependency[]>();
        for (const d of failed)
          if (d.arrayId !== null) arrays.set(d.arrayId, [...(arrays.get(d.arrayId) ?? []), d]);
        for (const [arrayId, [first, ...rest]] of arrays) {
          if (!first) continue;
          const ids = [first, ...rest].map((d) => d.id);
          if (first.policy === 'keep') {
            handled.push(...ids);
            continue;
          }
          const elements = await this.repository.lockUnfinished(tx, { arrayId, limit: BATCH });
          changes.push(...elements.map((job) => this.change(job, first)));
          // Handled once no element is left (nor one still to be created); until then the next
          // round cancels the next batch.
          if (elements.length < BATCH && (await this.repository.allElementsCreated(tx, arrayId)))
            handled.push(...ids);
        }
        const result = await this.ledger.apply(tx, changes);
        // A job another writer changed meanwhile: its dependency stays unhandled, for the next pass.
        const stale = new Set(result.stale.map((c) => c.job.id));
        await this.repository.markHandled(
          tx,
          handled.filter((id) => {
            const d = failed.find((f) => f.id === id)!;
            return d.jobId === null || !stale.has(d.jobId);
          }),
        );
        return {
          result: { envelopes: result.envelopes, count: result.written.length, stale: stale.size },
          messages: [] as Envelope[],
        };
      });
      if (!outcome) break;
      await this.outbox.dispatch(outcome.envelopes);
      changed += outcome.count;
      if (outcome.stale > 0 && outcome.count === 0) break;
    }
    if (changed > 0) this.logger.info({ jobs: changed }, 'acted on failed dependencies');
    return changed;
  }

  private change(job: JobChange['job'], d: FailedDependency): JobChange {
    const event = failedDependencyEvent(d.policy, d.description);
    const now = new Date();
    return event.type === 'cancel'
      ? { job, events: [event], set: { cancelRequestedAt: now, finishedAt: now } }
      : { job, events: [event] };
  }
}
