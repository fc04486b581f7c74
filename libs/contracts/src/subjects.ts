/**
 * Versioned subjects: `roam.cmd.v1.<area>.<verb>` for commands (one durable consumer per
 * handler) and `roam.evt.v1.<area>.<event>` for events (any number of subscribers).
 * Dead letters go to `roam.dlq.<original subject>`.
 */
export const SUBJECT_ROOT = 'roam';

export const streams = {
  commands: { name: 'ROAM_CMD', subjects: ['roam.cmd.>'], maxAgeSeconds: 7 * 24 * 3600 },
  events: { name: 'ROAM_EVT', subjects: ['roam.evt.>'], maxAgeSeconds: 14 * 24 * 3600 },
  deadLetters: { name: 'ROAM_DLQ', subjects: ['roam.dlq.>'], maxAgeSeconds: 30 * 24 * 3600 },
} as const;

export type StreamName = keyof typeof streams;

export function deadLetterSubject(subject: string): string {
  return `roam.dlq.${subject.startsWith('roam.') ? subject.slice('roam.'.length) : subject}`;
}

export function streamOf(subject: string): StreamName {
  if (subject.startsWith('roam.cmd.')) return 'commands';
  if (subject.startsWith('roam.evt.')) return 'events';
  if (subject.startsWith('roam.dlq.')) return 'deadLetters';
  throw new Error(`subject ${subject} belongs to no roam stream`);
}
