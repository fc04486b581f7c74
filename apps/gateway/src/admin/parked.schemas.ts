import { z } from 'zod';

/** `GET /api/v1/admin/parked`: each list pages on its own cursor. */
export const parkedQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    outbox_after: z.uuid('must be an outbox message id (UUID)').optional(),
    dead_letter_after: z.coerce.number().int().min(0).optional(),
  })
  .strict();
export type ParkedQuery = z.output<typeof parkedQuery>;

export const outboxIdParam = z.uuid('must be an outbox message id (UUID)');

const parkedOutboxRow = z
  .object({
    id: z.uuid().describe('The envelope id (and Nats-Msg-Id) of the message.'),
    subject: z.string(),
    attempts: z.number().int(),
    reason: z.string().nullable().describe('The last publish error.'),
    created_at: z.iso.datetime(),
    parked_at: z.iso.datetime(),
  })
  .meta({ id: 'ParkedOutboxMessage' });

const parkedDeadLetter = z
  .object({
    seq: z.number().int().describe('Position in the dead-letter stream (the paging cursor).'),
    subject: z.string().describe('Where the message was published.'),
    consumer: z.string().describe('The durable consumer that gave up on it.'),
    deliveries: z.number().int(),
    reason: z.string(),
    failed_at: z.string(),
  })
  .meta({ id: 'DeadLetter' });

export const parkedSchema = z
  .object({
    outbox: z.object({
      items: z.array(parkedOutboxRow),
      next_cursor: z.uuid().nullable().describe('Pass as `outbox_after` for the next page.'),
    }),
    dead_letters: z.object({
      items: z.array(parkedDeadLetter),
      next_cursor: z
        .number()
        .int()
        .nullable()
        .describe('Pass as `dead_letter_after` for the next page.'),
    }),
  })
  .meta({ id: 'Parked' });
export type ParkedView = z.output<typeof parkedSchema>;

export const requeuedSchema = z
  .object({ id: z.uuid(), status: z.literal('requeued') })
  .meta({ id: 'Requeued' });
export type RequeuedView = z.output<typeof requeuedSchema>;
