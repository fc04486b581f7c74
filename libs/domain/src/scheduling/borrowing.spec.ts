import { describe, expect, it } from '@jest/globals';

import { decide, type AdmissionDecision, type WaitReason } from './admission.js';
import type { Snapshot } from './snapshot.js';
import { job, node, snapshot, tenant } from './testing.js';

/** One roomy node: these rules are about quota, not capacity. */
const roomy = () => node('n1').allocatable({ cpu: 64, memory: '256Gi', gpu: 16 });

const outcome = (d: AdmissionDecision, id: string): string => {
  const a = d.admitted.find((x) => x.jobId === id);
  if (a) return a.borrowed ? 'admitted, borrowed' : 'admitted';
  const w = d.waiting.find((x) => x.jobId === id);
  return w ? w.reason : 'absent';
};

const messageOf = (d: AdmissionDecision, id: string): string =>
  d.waiting.find((x) => x.jobId === id)?.message ?? '';

describe('decide: guaranteed quota and borrowing within a cohort', () => {
  it.each<[string, Snapshot, Record<string, string>]>([
    [
      'without a cohort the quota is a hard cap, however idle the others are',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).running(2, { cpu: 4 }),
          tenant('b').quota({ cpu: 4 }),
        )
        .jobs(job('a1').cpu(2))
        .nodes(roomy())
        .obj(),
      { a1: 'WaitingForQuota' },
    ],
    [
      "a cohort member borrows another member's idle guarantee, and the admission is marked",
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').running(2, { cpu: 4 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2), job('a2').cpu(2), job('a3').cpu(2))
        .nodes(roomy())
        .obj(),
      { a1: 'admitted, borrowed', a2: 'admitted, borrowed', a3: 'WaitingForQuota' },
    ],
    [
      'an admission within the guarantee is not borrowed, the one past it is',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c'),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2).at(0), job('a2').cpu(2).at(1), job('a3').cpu(2).at(2))
        .nodes(roomy())
        .obj(),
      { a1: 'admitted', a2: 'admitted', a3: 'admitted, borrowed' },
    ],
    [
      'the borrowing limit caps what a member takes beyond its guarantee',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c', { cpu: 2 }).running(2, { cpu: 4 }),
          tenant('b').quota({ cpu: 8 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2).at(0), job('a2').cpu(2).at(1))
        .nodes(roomy())
        .obj(),
      { a1: 'admitted, borrowed', a2: 'WaitingForQuota' },
    ],
    [
      'a member with waiting jobs keeps its idle guarantee for them, whoever fair share serves first',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').running(1, { cpu: 4 }),
          // b holds nothing, so fair share serves b first; a borrowing must still leave b's 4.
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2), job('b1').of('b').cpu(4).at(5))
        .nodes(roomy())
        .obj(),
      { a1: 'WaitingForQuota', b1: 'admitted' },
    ],
    [
      'the part of a guarantee its owner does not ask for is still lent',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').running(1, { cpu: 4 }),
          tenant('b').quota({ cpu: 8 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2), job('b1').of('b').cpu(4))
        .nodes(roomy())
        .obj(),
      { a1: 'admitted, borrowed', b1: 'admitted' },
    ],
    [
      'only members of the same cohort lend to each other',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').running(1, { cpu: 4 }),
          tenant('b').quota({ cpu: 8 }).cohort('d'),
          tenant('x').quota({ cpu: 8 }),
        )
        .jobs(job('a1').cpu(2))
        .nodes(roomy())
        .obj(),
      { a1: 'WaitingForQuota' },
    ],
    [
      'a member within its guarantee waits when others borrowed the pool (preempt reclaims it)',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c').running(2, { cpu: 8 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('b1').of('b').cpu(2))
        .nodes(roomy())
        .obj(),
      { b1: 'WaitingForQuota' },
    ],
    [
      'a job larger than the guarantee but within guarantee plus borrowing can run',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c'),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('a1').cpu(6))
        .nodes(roomy())
        .obj(),
      { a1: 'admitted, borrowed' },
    ],
    [
      'a job larger than guarantee plus borrowing limit can never run',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c', { cpu: 1 }),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('a1').cpu(6))
        .nodes(roomy())
        .obj(),
      { a1: 'Unschedulable' },
    ],
    [
      'a job larger than the whole pool can never run',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c'),
          tenant('b').quota({ cpu: 4 }).cohort('c'),
        )
        .jobs(job('a1').cpu(10))
        .nodes(roomy())
        .obj(),
      { a1: 'Unschedulable' },
    ],
    [
      'a resource the job does not request cannot block it, borrowed or not',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4, gpu: 2 }).cohort('c').running(1, { cpu: 1, gpu: 4 }),
          tenant('b').quota({ cpu: 4, gpu: 2 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2).memory('1Gi'))
        .nodes(roomy())
        .obj(),
      { a1: 'admitted' },
    ],
  ])('%s', (_, s, expected) => {
    const d = decide(s);
    expect(Object.fromEntries(Object.keys(expected).map((id) => [id, outcome(d, id)]))).toEqual(
      expected,
    );
  });

  it.each<[string, Snapshot, WaitReason, RegExp]>([
    [
      'the cohort pool',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('research').running(2, { cpu: 8 }),
          tenant('b').quota({ cpu: 4 }).cohort('research'),
        )
        .jobs(job('b1').of('b').cpu(2))
        .nodes(roomy())
        .obj(),
      'WaitingForQuota',
      /^Waiting for cohort research's cpu quota \(8 CPU in use \+ 2 CPU requested > 8 CPU limit: its members' guarantees, less what they hold and keep for their waiting jobs\)$/,
    ],
    [
      'the borrowing limit',
      snapshot()
        .tenants(
          tenant('a').quota({ cpu: 4 }).cohort('c', { cpu: 2 }).running(2, { cpu: 5 }),
          tenant('b').quota({ cpu: 8 }).cohort('c'),
        )
        .jobs(job('a1').cpu(2))
        .nodes(roomy())
        .obj(),
      'WaitingForQuota',
      /^Waiting for tenant a's cpu quota \(5 CPU in use \+ 2 CPU requested > 6 CPU limit: 4 CPU guaranteed \+ 2 CPU borrowing limit\)$/,
    ],
  ])('a job waiting for %s says so', (_, s, reason, message) => {
    const d = decide(s);
    const id = s.pending[0]?.id ?? '';
    expect(outcome(d, id)).toBe(reason);
    expect(messageOf(d, id)).toMatch(message);
  });
});
