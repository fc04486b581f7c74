/**
 * Every NATS subject roam speaks, in one place: the schema registry, the handlers, the
 * publishers and the tests take their subjects from here, never from a literal.
 *
 * Subjects are versioned: `roam.cmd.v1.<area>.<verb>` for commands (one durable consumer per
 * handler), `roam.evt.v1.<area>.<event>` for events (any number of subscribers). A message
 * that cannot be handled is dead-lettered to `roam.dlq.<subject without "roam.">`.
 */
export const SUBJECT_ROOT = 'roam';

type CommandSubject = `roam.cmd.v1.${string}.${string}`;
type EventSubject = `roam.evt.v1.${string}.${string}`;

/**
 * Every concrete subject, by area. Commands are the verbs, events the past participles.
 * Adding one here without a schema in `registry.ts` fails compilation there.
 */
export const subjects = {
  job: {
    submit: 'roam.cmd.v1.job.submit',
    submitBatch: 'roam.cmd.v1.job.submitBatch',
    cancel: 'roam.cmd.v1.job.cancel',
    submitted: 'roam.evt.v1.job.submitted',
    queued: 'roam.evt.v1.job.queued',
    admitted: 'roam.evt.v1.job.admitted',
    started: 'roam.evt.v1.job.started',
    succeeded: 'roam.evt.v1.job.succeeded',
    failed: 'roam.evt.v1.job.failed',
    cancelled: 'roam.evt.v1.job.cancelled',
    offloaded: 'roam.evt.v1.job.offloaded',
    retried: 'roam.evt.v1.job.retried',
    /** Evicted for a cohort member reclaiming its guarantee or a higher-priority job; requeued. */
    preempted: 'roam.evt.v1.job.preempted',
    /** A JobSet's failure policy recreated its pods (not a roam retry); `restarts` counts them. */
    restarted: 'roam.evt.v1.job.restarted',
  },
  tenant: {
    provision: 'roam.cmd.v1.tenant.provision',
    delete: 'roam.cmd.v1.tenant.delete',
    created: 'roam.evt.v1.tenant.created',
    ready: 'roam.evt.v1.tenant.ready',
    failed: 'roam.evt.v1.tenant.failed',
    deleted: 'roam.evt.v1.tenant.deleted',
  },
  webhook: {
    /** Sent to one endpoint on request, never fanned out. */
    test: 'roam.evt.v1.webhook.test',
    disabled: 'roam.evt.v1.webhook.disabled',
  },
  group: {
    /** Every job of the group has finished (again, if jobs were added after it had). */
    finished: 'roam.evt.v1.group.finished',
  },
  array: {
    /** Every element of the array has finished. */
    finished: 'roam.evt.v1.array.finished',
  },
  pipeline: {
    /** Every step of the pipeline has finished. */
    finished: 'roam.evt.v1.pipeline.finished',
  },
  action: {
    execute: 'roam.cmd.v1.action.execute',
    requested: 'roam.evt.v1.action.requested',
    started: 'roam.evt.v1.action.started',
    succeeded: 'roam.evt.v1.action.succeeded',
    failed: 'roam.evt.v1.action.failed',
  },
} as const satisfies Record<string, Record<string, CommandSubject | EventSubject>>;

type Areas = typeof subjects;
/** Any subject roam publishes. */
export type Subject = { [A in keyof Areas]: Areas[A][keyof Areas[A]] }[keyof Areas];

/** Public event types are the event subjects; clients may name them without this prefix. */
export const EVENT_TYPE_PREFIX = 'roam.evt.v1.';

/** Wildcard subjects, for stream bindings and catch-all consumers. */
export const wildcards = {
  commands: 'roam.cmd.>',
  events: 'roam.evt.>',
  deadLetters: 'roam.dlq.>',
  /** Every v1 event, whatever its area. */
  eventsV1: `${EVENT_TYPE_PREFIX}>`,
} as const;

/** The three JetStream streams and the subjects each holds. */
export const streams = {
  commands: { name: 'ROAM_CMD', subjects: [wildcards.commands], maxAgeSeconds: 7 * 24 * 3600 },
  events: { name: 'ROAM_EVT', subjects: [wildcards.events], maxAgeSeconds: 14 * 24 * 3600 },
  deadLetters: {
    name: 'ROAM_DLQ',
    subjects: [wildcards.deadLetters],
    maxAgeSeconds: 30 * 24 * 3600,
  },
} as const;

export type StreamName = keyof typeof streams;

const streamPrefixes = {
  commands: 'roam.cmd.',
  events: 'roam.evt.',
  deadLetters: 'roam.dlq.',
} as const satisfies Record<StreamName, string>;

/** `roam.cmd.v1.job.submit` → `roam.dlq.cmd.v1.job.submit`. */
export function deadLetterSubject(subject: string): string {
  const root = `${SUBJECT_ROOT}.`;
  return `${streamPrefixes.deadLetters}${subject.startsWith(root) ? subject.slice(root.length) : subject}`;
}

/** The stream a subject (or a wildcard pattern) is stored in; throws for a foreign subject. */
export function streamOf(subject: string): StreamName {
  for (const stream of Object.keys(streamPrefixes) as StreamName[]) {
    if (subject.startsWith(streamPrefixes[stream])) return stream;
  }
  throw new Error(`subject ${subject} belongs to no roam stream`);
}

/** The SQL `LIKE` pattern matching every event type (for rows keyed by subject). */
export const EVENT_SUBJECT_LIKE = `${streamPrefixes.events}%`;
