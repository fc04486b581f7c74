import { envelopeSchema, type Envelope, type MessageRegistry } from '@roam/contracts';

export type EnvelopeCheck = { ok: true; envelope: Envelope } | { ok: false; error: string };

interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

function describe(issues: readonly Issue[]): string {
  return issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * The one check publisher and consumer share: the envelope schema, then the registry's
 * schema for `subject` over `data`. Returns the parsed envelope (zod strips and defaults).
 * With `data: false` the subject must still have a schema, but `data` is left unchecked
 * and as it came, for a consumer that never reads it.
 */
export function checkEnvelope(
  value: unknown,
  subject: string,
  registry: MessageRegistry,
  options: { data?: boolean } = {},
): EnvelopeCheck {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success)
    return { ok: false, error: `invalid envelope: ${describe(envelope.error.issues)}` };
  if (envelope.data.type !== subject) {
    return {
      ok: false,
      error: `envelope type "${envelope.data.type}" does not match subject "${subject}"`,
    };
  }
  const schema = registry.schemaFor(subject);
  if (!schema) return { ok: false, error: `unknown subject "${subject}": no schema registered` };
  if (options.data === false) return { ok: true, envelope: envelope.data };
  const data = schema.safeParse(envelope.data.data);
  if (!data.success)
    return { ok: false, error: `invalid data for ${subject}: ${describe(data.error.issues)}` };
  return { ok: true, envelope: { ...envelope.data, data: data.data } };
}
