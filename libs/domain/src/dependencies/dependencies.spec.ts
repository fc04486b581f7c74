import { describe, expect, it } from '@jest/globals';

import {
  checkDependencies,
  type Dependent,
  type DependencyStanding,
  type DependencyTarget,
  explainDependencies,
  orderSteps,
  type RequestedDependency,
} from './dependencies.js';
import { failedDependencyEvent } from './failure.js';

const JOB = '01900000-0000-7000-8000-000000000001';
const ARRAY = '01900000-0000-7000-8000-000000000002';
const SMALL = '01900000-0000-7000-8000-000000000003';
const targets = new Map<string, DependencyTarget>([
  [JOB, { kind: 'job', id: JOB }],
  [ARRAY, { kind: 'array', id: ARRAY, size: 10 }],
  [SMALL, { kind: 'array', id: SMALL, size: 3 }],
]);
const job: Dependent = { kind: 'job' };
const array10: Dependent = { kind: 'array', size: 10 };

describe('checkDependencies', () => {
  it.each<[string, Dependent, RequestedDependency[], RegExp]>([
    [
      'a job condition on an array',
      job,
      [{ job: ARRAY, on: 'succeeded' }],
      /an array: on must be one of all_succeeded/,
    ],
    [
      'an array condition on a job',
      job,
      [{ job: JOB, on: 'all_succeeded' }],
      /a job: on must be one of succeeded/,
    ],
    [
      'N_TO_N from a single job',
      job,
      [{ job: ARRAY, on: 'succeeded', type: 'N_TO_N' }],
      /between two arrays/,
    ],
    [
      'N_TO_N onto a job',
      array10,
      [{ job: JOB, on: 'succeeded', type: 'N_TO_N' }],
      /between two arrays/,
    ],
    [
      'N_TO_N between sizes',
      array10,
      [{ job: SMALL, on: 'succeeded', type: 'N_TO_N' }],
      /10 elements, array .* has 3/,
    ],
    [
      'N_TO_N with an array condition',
      array10,
      [{ job: ARRAY, on: 'any_failed', type: 'N_TO_N' }],
      /for N_TO_N/,
    ],
    [
      'the same target twice',
      job,
      [
        { job: JOB, on: 'succeeded' },
        { job: JOB, on: 'failed' },
      ],
      /named twice/,
    ],
    [
      'too many',
      job,
      [
        { job: JOB, on: 'succeeded' },
        { job: ARRAY, on: 'finished' },
      ],
      /at most 1 dependencies/,
    ],
  ])('refuses %s', (_name, dependent, requested, message) => {
    const check = checkDependencies(dependent, requested, targets, /too many/.test(_name) ? 1 : 8);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.issues.map((issue) => issue.message).join('\n')).toMatch(message);
  });

  it('answers unknown (or foreign) ids as missing, nothing else', () => {
    const unknown = '01900000-0000-7000-8000-0000000000ff';
    const check = checkDependencies(job, [{ job: unknown, on: 'succeeded' }], targets, 8);
    expect(check).toEqual({ ok: false, missing: [unknown], issues: [] });
  });

  it.each<[string, Dependent, RequestedDependency, object]>([
    ['a job on a job', job, { job: JOB, on: 'failed' }, { condition: 'failed' }],
    ['a job on a whole array', job, { job: ARRAY, on: 'any_failed' }, { condition: 'any_failed' }],
    [
      'an array on a whole array',
      array10,
      { job: SMALL, on: 'all_succeeded' },
      { condition: 'all_succeeded' },
    ],
    [
      'N_TO_N',
      array10,
      { job: ARRAY, on: 'finished', type: 'N_TO_N' },
      { condition: 'finished', nToN: 10 },
    ],
  ])('accepts %s', (_name, dependent, requested, expected) => {
    const check = checkDependencies(dependent, [requested], targets, 8);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.dependencies[0]).toMatchObject(expected);
  });
});

describe('orderSteps', () => {
  it.each<[string, { name: string; after: string[] }[], string[]]>([
    [
      'a chain given backwards',
      [
        { name: 'c', after: ['b'] },
        { name: 'b', after: ['a'] },
        { name: 'a', after: [] },
      ],
      ['a', 'b', 'c'],
    ],
    [
      'a fan-out and fan-in',
      [
        { name: 'prep', after: [] },
        { name: 'sim', after: ['prep'] },
        { name: 'plot', after: ['prep'] },
        { name: 'agg', after: ['sim', 'plot'] },
      ],
      ['prep', 'sim', 'plot', 'agg'],
    ],
  ])('orders %s', (_name, steps, order) => {
    expect(orderSteps(steps)).toEqual({ ok: true, order });
  });

  it.each<[string, { name: string; after: string[] }[], RegExp]>([
    [
      'a cycle',
      [
        { name: 'a', after: ['c'] },
        { name: 'b', after: ['a'] },
        { name: 'c', after: ['b'] },
        { name: 'd', after: [] },
      ],
      /cycle: a → c → b → a/,
    ],
    ['a self-dependency', [{ name: 'a', after: ['a'] }], /depends on itself/],
    ['an unknown step', [{ name: 'a', after: ['nope'] }], /"nope", which is no step/],
    [
      'a duplicate name',
      [
        { name: 'a', after: [] },
        { name: 'a', after: [] },
      ],
      /two steps have this name/,
    ],
  ])('refuses %s', (_name, steps, message) => {
    const order = orderSteps(steps);
    expect(order.ok).toBe(false);
    if (!order.ok) expect(order.issues.map((issue) => issue.message).join('\n')).toMatch(message);
  });
});

describe('explainDependencies', () => {
  const waitingJob: DependencyStanding = {
    target: { kind: 'job', id: JOB },
    condition: 'succeeded',
    state: 'waiting',
    progress: { phase: 'Running' },
  };
  const waitingArray: DependencyStanding = {
    target: { kind: 'array', id: ARRAY, size: 10 },
    condition: 'all_succeeded',
    state: 'waiting',
    progress: { finished: 4, size: 10 },
  };
  it.each<[string, DependencyStanding[], string | undefined]>([
    ['all met', [{ ...waitingJob, state: 'met' }], undefined],
    [
      'one waited on',
      [{ ...waitingJob, state: 'met' }, waitingArray],
      `waiting for 1 of 2 dependencies (1 met): array ${ARRAY} (on: all_succeeded; 4 of 10 elements finished)`,
    ],
    [
      'a failed one first',
      [waitingArray, { ...waitingJob, state: 'failed', progress: { phase: 'Failed' } }],
      `a dependency can no longer be met: job ${JOB} (on: succeeded; it is Failed)`,
    ],
  ])('%s', (_name, standings, summary) => {
    expect(explainDependencies(standings)).toBe(summary);
  });
});

describe('failedDependencyEvent', () => {
  it.each<[string, 'cancel' | 'keep' | undefined, object]>([
    ['cancels by default', undefined, { type: 'cancel', reason: 'DependencyFailed' }],
    ['cancels when asked', 'cancel', { type: 'cancel', reason: 'DependencyFailed' }],
    ['keeps when asked', 'keep', { type: 'queue', reason: 'DependencyNeverSatisfied' }],
  ])('%s', (_name, policy, event) => {
    expect(failedDependencyEvent(policy, `job ${JOB} (on: succeeded)`)).toMatchObject({
      ...event,
      message: expect.stringContaining(`job ${JOB} (on: succeeded)`),
    });
  });
});
