import { Injectable } from '@nestjs/common';
import { JetStreamConnection, listDeadLetters, Outbox } from '@roam/messaging';
import { ProblemError, problemTypes } from '@roam/runtime';

import type { ParkedQuery, ParkedView, RequeuedView } from './parked.schemas.js';

/**
 * What the platform gave up on, for operators: outbox rows the relay parked after its attempts
 * (docs/architecture.md#outbox) and messages handlers dead-lettered (the `ROAM_DLQ` stream).
 */
@Injectable()
export class ParkedService {
  constructor(
    private readonly outbox: Outbox,
    private readonly connection: JetStreamConnection,
  ) {}

  async list(query: ParkedQuery): Promise<ParkedView> {
    const [rows, letters] = await Promise.all([
      this.outbox.parked({ after: query.outbox_after, limit: query.limit + 1 }),
      listDeadLetters(this.connection, { after: query.dead_letter_after, limit: query.limit }),
    ]);
    const page = rows.slice(0, query.limit);
    return {
      outbox: {
        items: page.map((row) => ({
          id: row.id,
          subject: row.subject,
          attempts: row.attempts,
          reason: row.lastError,
          created_at: row.createdAt.toISOString(),
          parked_at: row.parkedAt.toISOString(),
        })),
        next_cursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
      },
      dead_letters: {
        items: letters.items.map(({ seq, letter }) => ({
          seq,
          subject: letter.originalSubject,
          consumer: letter.consumer,
          deliveries: letter.deliveries,
          reason: letter.error.message,
          failed_at: letter.failedAt,
        })),
        next_cursor: letters.next,
      },
    };
  }

  async retry(id: string): Promise<RequeuedView> {
    const outcome = await this.outbox.requeue(id);
    switch (outcome) {
      case 'requeued':
        return { id, status: 'requeued' };
      case 'not_found':
        throw new ProblemError(
          404,
          problemTypes.notFound,
          'Not found',
          `outbox message ${id} not found`,
        );
      case 'not_parked':
        throw new ProblemError(
          409,
          problemTypes.conflict,
          'Not parked',
          `outbox message ${id} is not parked (already published, or still being retried)`,
        );
    }
  }
}
