import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';

import { jobSubmitCommand } from './jobs.js';
import { defaultRegistry, messages } from './registry.js';
import {
  deadLetterSubject,
  EVENT_TYPE_PREFIX,
  streamOf,
  streams,
  type Subject,
  subjects,
  wildcards,
} from './subjects.js';
import { fullEventType, shortEventType } from './webhooks.js';

const every: string[] = Object.values(subjects).flatMap((area) => Object.values(area));

// The registry is total at compile time: these two do not type-check (tsc fails if they do).
// @ts-expect-error a registry missing a subject's schema
export const missing = { [subjects.job.submit]: jobSubmitCommand } satisfies Record<
  Subject,
  z.ZodType
>;
export const extra = {
  ...messages,
  // @ts-expect-error a schema for a subject roam does not know
  'roam.evt.v1.job.unknown': jobSubmitCommand,
} satisfies Record<Subject, z.ZodType>;

describe('subjects', () => {
  it('are versioned commands or events, named after their area and key', () => {
    for (const [area, entries] of Object.entries(subjects)) {
      for (const [key, subject] of Object.entries(entries)) {
        expect(subject).toMatch(new RegExp(`^roam\\.(cmd|evt)\\.v1\\.${area}\\.${key}$`));
      }
    }
    expect(new Set(every).size).toBe(every.length);
  });

  it('each has exactly one schema in the registry, and the registry has no other', () => {
    expect(Object.keys(messages).sort()).toEqual([...every].sort());
    for (const subject of every) expect(defaultRegistry.schemaFor(subject)).toBeDefined();
    expect(defaultRegistry.schemaFor('roam.evt.v1.job.unknown')).toBeUndefined();
  });

  it('live in the stream their kind belongs to, wildcards included', () => {
    expect(streamOf(subjects.job.submit)).toBe('commands');
    expect(streamOf(subjects.job.succeeded)).toBe('events');
    expect(streamOf(wildcards.eventsV1)).toBe('events');
    expect(streamOf(deadLetterSubject(subjects.job.submit))).toBe('deadLetters');
    expect(() => streamOf('other.evt.v1.job.succeeded')).toThrow(/no roam stream/);
    for (const subject of every) {
      expect(streams[streamOf(subject)].subjects).toEqual([
        subject.startsWith('roam.cmd.') ? wildcards.commands : wildcards.events,
      ]);
    }
  });

  it('dead-letter under roam.dlq with the original subject after the root', () => {
    expect(deadLetterSubject(subjects.job.submit)).toBe('roam.dlq.cmd.v1.job.submit');
    expect(deadLetterSubject(subjects.webhook.disabled)).toBe('roam.dlq.evt.v1.webhook.disabled');
  });

  it('name public event types, with or without the event prefix', () => {
    expect(wildcards.eventsV1).toBe(`${EVENT_TYPE_PREFIX}>`);
    expect(shortEventType(subjects.job.succeeded)).toBe('job.succeeded');
    expect(fullEventType('job.succeeded')).toBe(subjects.job.succeeded);
    expect(fullEventType(subjects.tenant.ready)).toBe(subjects.tenant.ready);
  });
});
