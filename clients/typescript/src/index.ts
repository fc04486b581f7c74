export {
  type ArraySubmission,
  type Event,
  type EventEnvelope,
  type EventQuery,
  isTerminal,
  type Job,
  type JobListQuery,
  type JobPage,
  type JobSpecInput,
  type JobSubmission,
  type LogQuery,
  type LogStreamEnd,
  RoamClient,
  type RoamClientOptions,
  type Schemas,
  type SubmitOptions,
} from './client.js';
export { type Problem, RoamError } from './errors.js';
export type { components, operations, paths } from './generated/openapi.js';
export { type RetryOptions, retryAfterMs, retryingFetch } from './retry.js';
export { readSse, type SseMessage } from './sse.js';
