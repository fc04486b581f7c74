import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Envelope } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
import {
  JOB_PHASES,
  JOB_REASONS,
  JOB_STATUSES,
  jobStateOf,
  legalJobStates,
  uuidv7,
} from '@roam/domain';
import { Outbox } from '@roam/messaging';
import { createTestDatabase } from '@roam/testing';
import { pino } from 'pino';

import { type JobChange, JobLedger, type LedgerJob, type NewJobRecord } from '../src/index.js';

const TENANT = 'ledger-a';

describe('job ledger (Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let ledger: JobLedger;

  beforeAll(async () => {
    db = await createTestDatabase('ledger');
    prisma = db.prisma;
    const outbox = new Outbox(prisma, { publishMany: async () => {} }, pino({ level: 'silent' }));
    ledger = new JobLedger(outbox, 'roam/test');
    await prisma.tenant.create({
      data: { id: TENANT, namespace: `roam-${TENANT}`, status: 'ready' },
    });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const newJob = (id = uuidv7()): NewJobRecord => ({
    id,
    tenantId: TENANT,
    name: `job-${id.slice(-6)}`,
    queue: 'default',
    priority: 0,
    spec: {
      image: 'busybox',
      command: ['true'],
      resources: { cpu: '100m', memory: '64Mi', gpu: 0 },
    } as NewJobRecord['spec'],
    labels: {},
    cpuMillis: 100,
    memoryBytes: 64 * 1024 * 1024,
    gpu: 0,
    offloadPreference: 'never',
    maxAttempts: 1,
    templateId: null,
    inputsKey: null,
    inputsBytes: null,
  });

  async function submitted(count: number): Promise<LedgerJob[]> {
    const jobs = Array.from({ length: count }, () => newJob());
    await ledger.submit(prisma, jobs);
    return read(jobs.map((job) => job.id));
  }

  async function read(ids: readonly string[]): Promise<LedgerJob[]> {
    const rows = await prisma.job.findMany({
      where: { id: { in: [...ids] } },
      orderBy: { id: 'asc' },
    });
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenantId,
      name: row.name,
      attempt: row.attempt,
      seq: row.seq,
      state: jobStateOf(row),
    }));
  }

  const history = (id: string) =>
    prisma.jobHistory.findMany({ where: { jobId: id }, orderBy: { seq: 'asc' } });
  const outboxOf = async (id: string) =>
    (await prisma.outboxMessage.findMany({ orderBy: { createdAt: 'asc' } }))
      .map(
        (row) =>
          row.envelope as unknown as Envelope<{
            jobId: string;
            phase: string;
            reason: string | null;
          }>,
      )
      .filter((envelope) => envelope.subject === `jobs/${id}`);

  it('submits: the row, its first history row and its submitted event, in one statement', async () => {
    const job = newJob();
    const command: Envelope = {
      id: job.id,
      type: 'roam.cmd.v1.job.submit',
      source: 'roam/test',
      time: new Date().toISOString(),
      data: { jobId: job.id },
    };
    const { rows, envelopes } = await ledger.submit<{ id: string; phase: string }>(prisma, [job], {
      tenantGuard: TENANT,
      messages: [command],
      returnRows: true,
    });
    expect(rows).toEqual([expect.objectContaining({ id: job.id, phase: 'Submitted' })]);
    expect(envelopes.map((e) => e.type)).toEqual([
      'roam.evt.v1.job.submitted',
      'roam.cmd.v1.job.submit',
    ]);
    expect((await history(job.id)).map((h) => [h.seq, h.phase])).toEqual([[1, 'Submitted']]);
    expect((await outboxOf(job.id)).map((e) => [e.type, e.seq])).toEqual([
      ['roam.evt.v1.job.submitted', 1],
    ]);
    expect(await prisma.outboxMessage.count({ where: { id: job.id } })).toBe(1);
  });

  it('writes nothing when the tenant guard fails', async () => {
    const job = { ...newJob(), tenantId: 'nobody' };
    const { rows, envelopes } = await ledger.submit(prisma, [job], { tenantGuard: 'nobody' });
    expect(rows).toEqual([]);
    expect(envelopes).toEqual([]);
    expect(await prisma.job.count({ where: { id: job.id } })).toBe(0);
    expect(await outboxOf(job.id)).toEqual([]);
  });

  it('applies one change: row, history row and event with the next seq', async () => {
    const [job] = await submitted(1);
    const result = await ledger.apply(prisma, [
      {
        job: job!,
        events: [{ type: 'admit', message: 'admitted' }],
        set: { admittedAt: new Date() },
      },
    ]);
    expect(result.written.map((w) => w.seq)).toEqual([2]);
    const row = await prisma.job.findUniqueOrThrow({ where: { id: job!.id } });
    expect([row.status, row.phase, row.reason, row.seq]).toEqual([
      'pending',
      'Admitted',
      'ContainerCreating',
      2,
    ]);
    expect(row.admittedAt).not.toBeNull();
    expect((await history(job!.id)).map((h) => `${h.seq}:${h.phase}/${h.reason}`)).toEqual([
      '1:Submitted/null',
      '2:Admitted/ContainerCreating',
    ]);
    const events = await outboxOf(job!.id);
    expect(events.map((e) => [e.type, e.seq, e.source])).toEqual([
      ['roam.evt.v1.job.submitted', 1, 'roam/test'],
      ['roam.evt.v1.job.admitted', 2, 'roam/test'],
    ]);
    expect(await prisma.event.count({ where: { subject: `jobs/${job!.id}` } })).toBe(2);
  });

  it('applies a batch in one statement: several steps per job, re-queues, columns', async () => {
    const jobs = await submitted(300);
    const changes: JobChange[] = jobs.map((job, i) =>
      i % 3 === 0
        ? {
            job,
            events: [{ type: 'admit' }, { type: 'start' }, { type: 'succeed', message: 'done' }],
            set: { exitCode: 0, finishedAt: new Date(), placement: { node: 'n1' } },
          }
        : i % 3 === 1
          ? {
              job,
              events: [
                { type: 'queue', reason: 'WaitingForQuota' },
                { type: 'queue', reason: 'InsufficientCapacity' },
              ],
            }
          : { job, events: [{ type: 'fail', reason: 'Lost', message: 'gone' }] },
    );
    const result = await ledger.apply(prisma, changes);
    expect(result.written).toHaveLength(300);
    expect(result.stale).toEqual([]);

    const [done, waiting, lost] = jobs;
    expect((await history(done!.id)).map((h) => h.phase)).toEqual([
      'Submitted',
      'Admitted',
      'Running',
      'Succeeded',
    ]);
    const doneRow = await prisma.job.findUniqueOrThrow({ where: { id: done!.id } });
    expect([doneRow.seq, doneRow.exitCode, doneRow.placement]).toEqual([4, 0, { node: 'n1' }]);
    expect((await outboxOf(done!.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    // Every step is an event with its seq, a change of wait reason within the queue included.
    expect((await history(waiting!.id)).map((h) => `${h.phase}/${h.reason}`)).toEqual([
      'Submitted/null',
      'Queued/WaitingForQuota',
      'Queued/InsufficientCapacity',
    ]);
    const requeued = (await outboxOf(waiting!.id)).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    expect(requeued.map((e) => [e.type, e.seq, e.data.reason])).toEqual([
      ['roam.evt.v1.job.submitted', 1, null],
      ['roam.evt.v1.job.queued', 2, 'WaitingForQuota'],
      ['roam.evt.v1.job.queued', 3, 'InsufficientCapacity'],
    ]);
    const lostRow = await prisma.job.findUniqueOrThrow({ where: { id: lost!.id } });
    expect([lostRow.status, lostRow.reason, lostRow.message, lostRow.seq]).toEqual([
      'failed',
      'Lost',
      'gone',
      2,
    ]);
  });

  it('reports a lost race (seq moved) and writes nothing for that job', async () => {
    const [a, b] = await submitted(2);
    await ledger.apply(prisma, [{ job: a!, events: [{ type: 'cancel' }] }]);
    // `a` as read before the cancel: its seq is stale now.
    const result = await ledger.apply(prisma, [
      { job: a!, events: [{ type: 'admit' }] },
      { job: b!, events: [{ type: 'admit' }] },
    ]);
    expect(result.stale.map((c) => c.job.id)).toEqual([a!.id]);
    expect(result.written.map((w) => w.change.job.id)).toEqual([b!.id]);
    expect(result.envelopes.map((e) => e.subject)).toEqual([`jobs/${b!.id}`]);
    const row = await prisma.job.findUniqueOrThrow({ where: { id: a!.id } });
    expect([row.phase, row.seq]).toEqual(['Cancelled', 2]);
    expect((await history(a!.id)).map((h) => h.phase)).toEqual(['Submitted', 'Cancelled']);
    expect((await outboxOf(a!.id)).map((e) => e.type)).toEqual([
      'roam.evt.v1.job.submitted',
      'roam.evt.v1.job.cancelled',
    ]);
  });

  it('treats a job last changed by a younger transaction as stale, so the feed keeps seq order', async () => {
    const [job] = await submitted(1);
    await prisma.$transaction(async (tx) => {
      // This transaction takes its id now (as one that wrote something else first would)…
      await tx.$queryRaw`SELECT pg_current_xact_id()::text`;
      // …then a younger one changes the job and commits.
      await ledger.apply(prisma, [
        { job: job!, events: [{ type: 'queue', reason: 'WaitingForQuota' }] },
      ]);
      // Read again, the change is visible (read committed), but writing on top of it would
      // give seq 3 an older transaction id than seq 2: refused as stale.
      const [fresh] = await read([job!.id]);
      const result = await ledger.apply(tx, [{ job: fresh!, events: [{ type: 'admit' }] }]);
      expect(result.stale.map((c) => c.job.id)).toEqual([job!.id]);
      expect(result.envelopes).toEqual([]);
    });
    // A new transaction writes it.
    const [fresh] = await read([job!.id]);
    const retried = await ledger.apply(prisma, [{ job: fresh!, events: [{ type: 'admit' }] }]);
    expect(retried.written).toHaveLength(1);
    // The feed's read order is the seq order.
    const rows = await prisma.$queryRaw<{ seq: number }[]>`
      SELECT (envelope ->> 'seq')::int AS seq FROM events
      WHERE subject = ${`jobs/${job!.id}`} ORDER BY xid, position`;
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('rejects an illegal transition and writes nothing for that job', async () => {
    const [job] = await submitted(1);
    const result = await ledger.apply(prisma, [
      { job: job!, events: [{ type: 'succeed' }], set: { exitCode: 0 } },
    ]);
    expect(result.rejected).toEqual([
      { change: expect.anything(), error: expect.stringMatching(/cannot succeed/) },
    ]);
    expect(result.envelopes).toEqual([]);
    const row = await prisma.job.findUniqueOrThrow({ where: { id: job!.id } });
    expect([row.phase, row.seq, row.exitCode]).toEqual(['Submitted', 1, null]);
    expect(await history(job!.id)).toHaveLength(1);
    expect(await outboxOf(job!.id)).toHaveLength(1);
  });

  it('treats a duplicate as a no-op: nothing written, columns included', async () => {
    const [job] = await submitted(1);
    await ledger.apply(prisma, [{ job: job!, events: [{ type: 'cancel' }] }]);
    const [cancelled] = await read([job!.id]);
    const before = await prisma.job.findUniqueOrThrow({ where: { id: job!.id } });
    const result = await ledger.apply(prisma, [
      { job: cancelled!, events: [{ type: 'cancel' }], set: { finishedAt: new Date(0) } },
    ]);
    expect(result.unchanged.map((c) => c.job.id)).toEqual([job!.id]);
    expect(result.written).toEqual([]);
    const after = await prisma.job.findUniqueOrThrow({ where: { id: job!.id } });
    expect(after).toEqual(before);
    expect(await history(job!.id)).toHaveLength(2);
    expect(await outboxOf(job!.id)).toHaveLength(2);
  });

  it('writes columns alone (no events) guarded by seq, without history or event', async () => {
    const [job] = await submitted(1);
    const result = await ledger.apply(prisma, [
      { job: job!, events: [], set: { placement: { namespace: 'roam-x', job: 'j' } } },
    ]);
    expect(result.written.map((w) => w.seq)).toEqual([1]);
    const row = await prisma.job.findUniqueOrThrow({ where: { id: job!.id } });
    expect([row.seq, row.placement]).toEqual([1, { namespace: 'roam-x', job: 'j' }]);
    expect(await history(job!.id)).toHaveLength(1);
  });

  it('refuses a batch naming one job twice', async () => {
    const [job] = await submitted(1);
    await expect(
      ledger.apply(prisma, [
        { job: job!, events: [{ type: 'admit' }] },
        { job: job!, events: [{ type: 'cancel' }] },
      ]),
    ).rejects.toThrow(/twice/);
  });

  it('the database accepts exactly the states the domain knows, on jobs and job_history', async () => {
    const phases = [...Object.keys(JOB_PHASES), 'Bogus'];
    const reasons = [...JOB_REASONS, 'Bogus', null];
    const statuses = [...JOB_STATUSES];
    const combos = statuses.flatMap((status) =>
      phases.flatMap((phase) => reasons.map((reason) => ({ status, phase, reason }))),
    );
    const rows = await prisma.$queryRaw<{ status: string; phase: string; reason: string | null }[]>`
      SELECT c.status, c.phase, c.reason
      FROM jsonb_to_recordset(${JSON.stringify(combos)}::jsonb) AS c(status text, phase text, reason text)
      WHERE job_state_is_legal(c.status, c.phase, c.reason)`;
    const key = (s: { status: string; phase: string; reason?: string | null }) =>
      `${s.status}/${s.phase}/${s.reason ?? ''}`;
    expect(rows.map(key).sort()).toEqual(legalJobStates().map(key).sort());

    const [job] = await submitted(1);
    await expect(
      prisma.$executeRaw`UPDATE jobs SET status = 'running', phase = 'Queued' WHERE id = ${job!.id}::uuid`,
    ).rejects.toThrow(/jobs_state_check/);
    await expect(
      prisma.$executeRaw`INSERT INTO job_history (job_id, tenant_id, seq, status, phase, reason)
        VALUES (${job!.id}::uuid, ${TENANT}, 2, 'failed', 'Failed', 'Bogus')`,
    ).rejects.toThrow(/job_history_state_check/);
  });
});
