import { z } from 'zod';

/** How every Server-Sent Events response is framed, for the OpenAPI document. */
export const SSE_FRAMING =
  'Server-Sent Events: each message is one of these shapes written as SSE fields: `id:` and `event:` lines (when present) and a `data:` line carrying `data` (as JSON, except a log line, which is sent as is), then a blank line. Lines starting with `:` are comments (heartbeats) to ignore.';

/** The `data` of the last message of a stream whose API key was revoked under it. */
export const streamClosedSchema = z
  .object({
    reason: z.literal('unauthorized'),
    detail: z.string().describe('Why: the key was revoked, or its tenant deleted.'),
  })
  .meta({ id: 'StreamClosed' });

/** `event: closed`: the stream ends because its API key no longer authenticates. */
export const streamClosedMessageSchema = z
  .object({ event: z.literal('closed'), data: streamClosedSchema })
  .meta({ id: 'StreamClosedMessage' });
