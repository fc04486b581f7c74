import { z } from 'zod';

/**
 * Every message on NATS is one envelope (docs/architecture.md#messaging), CloudEvents-style.
 * `type` is the versioned subject the message is published on, so a consumer that receives it
 * on another subject (a dead-letter replay, say) still knows what it is.
 */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  source: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  /** What the message is about, e.g. `jobs/<id>`. */
  subject: z.string().optional(),
  tenantId: z.string().optional(),
  /** Per-subject-entity sequence number (per job for job events). */
  seq: z.number().int().nonnegative().optional(),
  traceparent: z.string().optional(),
  data: z.unknown(),
});

export type Envelope<T = unknown> = Omit<z.infer<typeof envelopeSchema>, 'data'> & { data: T };

export interface EnvelopeMeta {
  source: string;
  subject?: string;
  tenantId?: string;
  seq?: number;
  traceparent?: string;
  /** Defaults to a random UUID; pass a deterministic id to make a republish a duplicate. */
  id?: string;
  time?: Date;
}

export function createEnvelope<T>(type: string, data: T, meta: EnvelopeMeta): Envelope<T> {
  const envelope: Envelope<T> = {
    id: meta.id ?? crypto.randomUUID(),
    type,
    source: meta.source,
    time: (meta.time ?? new Date()).toISOString(),
    data,
  };
  if (meta.subject !== undefined) envelope.subject = meta.subject;
  if (meta.tenantId !== undefined) envelope.tenantId = meta.tenantId;
  if (meta.seq !== undefined) envelope.seq = meta.seq;
  if (meta.traceparent !== undefined) envelope.traceparent = meta.traceparent;
  return envelope;
}
