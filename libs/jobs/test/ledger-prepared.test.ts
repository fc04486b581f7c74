import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPrismaClient, type PrismaClient } from '@roam/db';
import { uuidv7 } from '@roam/domain';
import { Outbox } from '@roam/messaging';
import { createTestDatabase, type TestDatabase } from '@roam/testing';
import { pino } from 'pino';

import { JOB_ROW_COLUMNS, JobLedger, type NewJobRecord } from '../src/index.js';

const TENANT = 'prepared-a';

/**
 * The submit statement is prepared once per connection (a name derived from its text) and must
 * survive a migration that adds a column to `jobs`: Postgres re-plans it, and its result shape
 * (the named columns) stays the same, so it never fails with "cached plan must not change
 * result type".
 */
describe('ledger submit: prepared statements across a migration (Postgres)', () => {
  let db: TestDatabase;
  /** One connection, so the second submit reuses the statement the first one prepared. */
  let single: PrismaClient;
  let ledger: JobLedger;

  beforeAll(async () => {
    db = await createTestDatabase('ledger_prepared');
    single = createPrismaClient({ databaseUrl: db.url, poolSize: 1 });
    const outbox = new Outbox(single, { publishMany: async () => {} }, pino({ level: 'silent' }));
    ledger = new JobLedger(outbox, 'roam/test');
    await db.prisma.tenant.create({
      data: { id: TENANT, namespace: `roam-${TENANT}`, status: 'ready' },
    });
  });

  afterAll(async () => {
    await single?.$disconnect();
    await db?.drop();
  });

  const newJob = (): NewJobRecord => ({
    id: uuidv7(),
    tenantId: TENANT,
    name: 'prepared',
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

  const submit = async () => {
    const { rows } = await ledger.submit<Record<string, unknown>>(single, [newJob()], {
      tenantGuard: TENANT,
      returnRows: true,
    });
    return rows;
  };

  const prepared = async () =>
    (
      await single.$queryRaw<{ statement: string }[]>`
        SELECT statement FROM pg_prepared_statements WHERE name LIKE 'roam\\_%'`
    ).map((row) => row.statement);

  it('returns the same columns after ALTER TABLE jobs ADD COLUMN, from the same prepared statement', async () => {
    const before = await submit();
    expect(Object.keys(before[0]!).sort()).toEqual([...JOB_ROW_COLUMNS].sort());
    const submitStatement = (await prepared()).filter((s) => s.includes('ledger_inserted'));
    expect(submitStatement).toHaveLength(1);

    await db.prisma.$executeRawUnsafe(
      `ALTER TABLE jobs ADD COLUMN added_by_migration text NOT NULL DEFAULT 'x'`,
    );

    const after = await submit();
    expect(Object.keys(after[0]!).sort()).toEqual([...JOB_ROW_COLUMNS].sort());
    expect((await prepared()).filter((s) => s.includes('ledger_inserted'))).toEqual(
      submitStatement,
    );
    // A statement returning `*` is not named, so it too keeps working (a new shape, re-parsed).
    const star = await single.$queryRaw<Record<string, unknown>[]>`SELECT * FROM jobs LIMIT 1`;
    expect(Object.keys(star[0]!)).toContain('added_by_migration');
    expect((await prepared()).some((s) => s.includes('SELECT * FROM jobs'))).toBe(false);
  });
});
