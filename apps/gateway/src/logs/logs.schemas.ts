import { z } from 'zod';

import { SSE_FRAMING, streamClosedMessageSchema } from '../events/stream.schemas.js';

/** `true`/`false`/`1`/`0` in a query string (`z.coerce.boolean` would read "false" as true). */
export const queryFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

export const jobIdParam = z.uuid('must be a job id (UUID)');

/** A replica of a multi-pod job, as `?replica=` names it in logs and results. */
export const replicaName = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a replica: an index (3) or <replicated job>-<index> (worker-3)',
  );

/** `GET /api/v1/jobs/{id}/logs` and `/logs/stream`. */
export const logsQuery = z
  .object({
    tail: z.coerce
      .number()
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe('Only the last N lines (before following).'),
    since: z
      .union([
        z.string().regex(/^\d+$/).transform(Number).describe('Seconds back from now'),
        z.iso
          .datetime({ offset: true })
          .transform((value) => new Date(value))
          .describe('An RFC3339 instant'),
      ])
      .optional()
      .describe('Only lines written since this many seconds ago, or since this RFC3339 instant.'),
    attempt: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Which attempt of a retried job; defaults to the latest.'),
    replica: replicaName
      .optional()
      .describe(
        "One replica of a multi-pod job: an indexed job's completion index (`3`), or a JobSet's `<replicated job>-<index>` (`worker-3`). 404 when the job has no such replica.",
      ),
    timestamps: queryFlag.default(false).describe('Prefix every line with its RFC3339 time.'),
    follow: queryFlag
      .default(false)
      .describe(
        'Keep the response open and stream new lines until the pod ends (chunked text/plain). 409 before the job has a pod.',
      ),
  })
  .strict();
export type LogsQuery = z.output<typeof logsQuery>;

export const streamQuery = logsQuery.omit({ follow: true });
export type StreamQuery = z.output<typeof streamQuery>;

export const logTextResponse = z.string().describe('The log, one line per `\\n`.');
/** The `data` of a log stream's `event: end`. */
export const logStreamEndSchema = z
  .object({
    job_id: z.uuid(),
    attempt: z.number().int().describe('The attempt whose log this was.'),
    status: z.string().describe('The job’s status when its pod ended.'),
    reason: z.string().optional(),
  })
  .meta({ id: 'LogStreamEnd' });

/** `GET /api/v1/jobs/{id}/logs/stream` (and the SUMO-K8 route), for the OpenAPI document. */
export const logEventStream = z
  .union([
    z
      .object({
        event: z.literal('message').describe('No `event:` line: the SSE default type.'),
        data: z.string().describe('One log line, as is (not JSON).'),
      })
      .meta({ id: 'LogStreamLine' }),
    z
      .object({ event: z.literal('end'), data: logStreamEndSchema })
      .meta({ id: 'LogStreamEndMessage' }),
    streamClosedMessageSchema,
  ])
  .describe(
    `${SSE_FRAMING} Here: one message per log line, then \`event: end\` when the pod ends, or \`event: closed\` when the API key it was opened with is revoked.`,
  )
  .meta({ id: 'LogStreamMessage' });

/** Headers every log response carries (documented in the OpenAPI document). */
export const logHeaders = {
  'Roam-Log-Source': 'Where the lines came from: `kubernetes`, `archive` or `none`.',
  'Roam-Log-Reason':
    'Only when the source is `none`: `not-started`, `container-waiting`, `pod-gone` or `pod-not-found`.',
  'Roam-Log-Attempt': 'The attempt whose log this is.',
};
