import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import {
  createPrismaClient,
  directSql,
  directTransaction,
  Prisma,
  type PrismaClient,
  type RawStatements,
  statementNames,
} from '../src/index.js';

const { sql } = Prisma;

/** Every column type the raw statements read, NULLs included, in one row. */
const EVERY_TYPE = sql`
  SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, count(*) AS counted,
         1.25::numeric AS num, 1.5::float4 AS f4, 2.5::float8 AS f8, true AS bool,
         'text'::text AS text, 'v'::varchar AS varchar, '0199abcd-1234-7000-8000-000000000000'::uuid AS uuid,
         '2026-01-02T03:04:05.678+02:00'::timestamptz AS tstz, '2026-01-02 03:04:05.678'::timestamp AS ts,
         '2026-01-02'::date AS date, '03:04:05'::time AS time,
         '{"a":[1,2],"b":null,"c":"\\u00e9"}'::jsonb AS jsonb, '{"a":1}'::json AS json, '\\x0102ff'::bytea AS bytea,
         ARRAY['a', NULL, 'c,d']::text[] AS texts, ARRAY['0199abcd-1234-7000-8000-000000000000']::uuid[] AS uuids,
         ARRAY[1, 2]::int4[] AS i4s, ARRAY[1, NULL, 3]::int8[] AS i8s, ARRAY[1.5, 2]::numeric[] AS nums,
         ARRAY['2026-01-02T03:04:05Z']::timestamptz[] AS tstzs, ARRAY['2026-01-02 03:04:05']::timestamp[] AS tss,
         ARRAY['{"a":1}']::jsonb[] AS jsonbs, ARRAY[true, false] AS bools,
         'running'::"JobStatus" AS status, ARRAY['running']::"JobStatus"[] AS statuses,
         NULL::int8 AS null_i8, NULL::numeric AS null_num, NULL::jsonb AS null_jsonb, NULL::timestamptz AS null_tstz,
         NULL::text[] AS null_texts
  FROM (SELECT 1) one`;

/** Values compared as Prisma's types present them (Decimals by their digits). */
function comparable(value: unknown): unknown {
  if (Prisma.Decimal.isDecimal(value)) return `Decimal(${value.toString()})`;
  if (value instanceof Uint8Array) return `bytes(${[...value].join(',')})`;
  if (Array.isArray(value)) return value.map(comparable);
  if (value instanceof Date) return `Date(${value.toISOString()})`;
  if (typeof value === 'bigint') return `${value}n`;
  return value;
}

function comparableRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, comparable(value)])),
  );
}

describe('directSql (Postgres)', () => {
  let db: TestDatabase;
  let direct: RawStatements;

  beforeAll(async () => {
    db = await createTestDatabase('direct_sql');
    direct = directSql(db.prisma);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('runs on the client’s own pool, not through Prisma', () => {
    expect(direct).not.toBe(db.prisma);
    expect(directSql(db.prisma)).toBe(direct);
  });

  it('reads every column type as Prisma’s $queryRaw does', async () => {
    const viaPrisma = await db.prisma.$queryRaw<Record<string, unknown>[]>(EVERY_TYPE);
    const viaDirect = await direct.$queryRaw<Record<string, unknown>[]>(EVERY_TYPE);
    expect(comparableRows(viaDirect)).toEqual(comparableRows(viaPrisma));
    // The types themselves, not only their printing.
    const [row] = viaDirect;
    expect(typeof row?.['i8']).toBe('bigint');
    expect(typeof row?.['counted']).toBe('bigint');
    expect(row?.['num']).toBeInstanceOf(Prisma.Decimal);
    expect(row?.['tstz']).toBeInstanceOf(Date);
    expect(row?.['i8s']).toEqual([1n, null, 3n]);
    // bytea as Prisma gives it: a plain Uint8Array, not node-postgres' Buffer.
    expect(Object.getPrototypeOf(row?.['bytea'])).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(viaPrisma[0]?.['bytea'])).toBe(Uint8Array.prototype);
  });

  it('sends parameters as Prisma does: dates, decimals, bigints, arrays, JSON, nested SQL', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const query = sql`
      SELECT ${at}::timestamptz AS at, ${new Prisma.Decimal('12.50')}::numeric AS amount,
             ${12345678901234567n}::int8 AS big, ${['a', 'b']}::text[] AS names,
             ${JSON.stringify({ k: [1, 'two'] })}::jsonb AS doc, ${null}::text AS nothing,
             ${Prisma.join([1, 2, 3])} AS listed, ${Prisma.raw("'raw'")} AS raw`;
    const viaPrisma = await db.prisma.$queryRaw<Record<string, unknown>[]>(query);
    const viaDirect = await direct.$queryRaw<Record<string, unknown>[]>(query);
    expect(comparableRows(viaDirect)).toEqual(comparableRows(viaPrisma));
    expect(viaDirect[0]?.['at']).toEqual(at);
  });

  it('takes a tagged template as $queryRaw does, and counts rows for $executeRaw', async () => {
    await direct.$executeRaw`CREATE TABLE direct_sql_t (id int PRIMARY KEY, name text)`;
    const ids = [1, 2, 3];
    const inserted = await direct.$executeRaw`
      INSERT INTO direct_sql_t (id, name) SELECT id, 'n' || id FROM unnest(${ids}::int[]) id`;
    expect(inserted).toBe(3);
    const rows = await direct.$queryRaw<{ id: number; name: string }[]>`
      SELECT id, name FROM direct_sql_t WHERE id = ANY(${[2, 3]}::int[]) ORDER BY id`;
    expect(rows).toEqual([
      { id: 2, name: 'n2' },
      { id: 3, name: 'n3' },
    ]);
  });

  it('fails as Prisma fails a raw statement: P2010 with the server’s code and message', async () => {
    const duplicate = sql`INSERT INTO direct_sql_t (id, name) VALUES (1, 'again')`;
    const viaPrisma = await db.prisma.$executeRaw(duplicate).catch((error: unknown) => error);
    const viaDirect = await direct.$executeRaw(duplicate).catch((error: unknown) => error);
    for (const error of [viaPrisma, viaDirect]) {
      expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
      expect(error).toMatchObject({
        code: 'P2010',
        meta: { driverAdapterError: { cause: { originalCode: '23505' } } },
      });
      expect((error as Error).message).toContain('Code: `23505`');
    }
    const badUuid = await direct.$queryRaw`SELECT ${'not-a-uuid'}::uuid AS id`.catch(
      (error: unknown) => error,
    );
    expect(badUuid).toMatchObject({
      code: 'P2010',
      meta: { driverAdapterError: { cause: { originalCode: '22P02' } } },
    });
  });

  it('shares prepared statements with Prisma: one name per text, prepared once per connection', async () => {
    const single = createPrismaClient({ databaseUrl: db.url, poolSize: 1 });
    try {
      const byId = (id: number) => sql`SELECT id, name FROM direct_sql_t WHERE id = ${id}`;
      expect(await single.$queryRaw(byId(1))).toEqual([{ id: 1, name: 'n1' }]);
      expect(await directSql(single).$queryRaw(byId(2))).toEqual([{ id: 2, name: 'n2' }]);
      const prepared = await directSql(single).$queryRaw<{ name: string }[]>`
        SELECT name FROM pg_prepared_statements WHERE statement = ${byId(0).text}`;
      expect(prepared).toEqual([{ name: statementNames()({ sql: byId(0).text }) }]);
      expect(prepared[0]?.name).toMatch(/^roam_/);
    } finally {
      await single.$disconnect();
    }
  });

  it('leaves the pool to $disconnect() even when only directSql used it', async () => {
    const client = createPrismaClient({ databaseUrl: db.url, poolSize: 1 });
    const runner = directSql(client);
    expect(await runner.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    await client.$disconnect();
    // Ended, not left with an idle connection holding the process open.
    await expect(runner.$queryRaw`SELECT 1 AS one`).rejects.toThrow(/pool after calling end/);
  });

  it('reads and writes times as Prisma does in a database whose TimeZone is not UTC', async () => {
    const database = new URL(db.url).pathname.slice(1);
    await db.prisma.$executeRawUnsafe(
      `ALTER DATABASE "${database}" SET timezone = 'America/New_York'`,
    );
    const client = createPrismaClient({ databaseUrl: db.url, poolSize: 1 });
    try {
      const at = new Date('2026-01-02T05:00:00.000Z');
      await client.$executeRaw`CREATE TABLE direct_sql_tz (id int PRIMARY KEY, at timestamptz)`;
      await client.$executeRaw`INSERT INTO direct_sql_tz VALUES (1, ${at})`;
      await directSql(client).$executeRaw`INSERT INTO direct_sql_tz VALUES (2, ${at})`;
      const read = sql`SELECT id, at FROM direct_sql_tz ORDER BY id`;
      const expected = [
        { id: 1, at },
        { id: 2, at },
      ];
      expect(await client.$queryRaw(read)).toEqual(expected);
      expect(await directSql(client).$queryRaw(read)).toEqual(expected);
      expect(await directSql(client).$queryRaw`SELECT current_setting('TimeZone') AS tz`).toEqual([
        { tz: 'UTC' },
      ]);
    } finally {
      await client.$disconnect();
    }
  });

  describe('directTransaction', () => {
    let single: PrismaClient;

    beforeAll(async () => {
      single = createPrismaClient({ databaseUrl: db.url, poolSize: 1 });
      await direct.$executeRaw`CREATE TABLE direct_tx_t (id int PRIMARY KEY)`;
    });

    afterAll(async () => {
      await single?.$disconnect();
    });

    const ids = () => direct.$queryRaw<{ id: number }[]>`SELECT id FROM direct_tx_t ORDER BY id`;

    /** What a transaction on the one-connection client that is expected to fail fails with. */
    const failureOf = (work: (tx: RawStatements) => Promise<unknown>, timeoutMs = 10_000) =>
      directTransaction(single, work, { timeoutMs }).catch((error: unknown) => error);

    it('commits what the work wrote when it resolves, on one connection', async () => {
      const result = await directTransaction(
        single,
        async (tx) => {
          await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (1)`;
          // Inside, the work sees its own write; outside, nobody does yet.
          const inside = await tx.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM direct_tx_t`;
          expect(await ids()).toEqual([]);
          const [xact] = await tx.$queryRaw<{ open: boolean }[]>`
            SELECT transaction_timestamp() <> statement_timestamp() AS open`;
          return { inside: inside[0]?.n, open: xact?.open };
        },
        { timeoutMs: 10_000 },
      );
      expect(result).toEqual({ inside: 1n, open: true });
      expect(await ids()).toEqual([{ id: 1 }]);
    });

    it('rolls back when the work throws, and gives the connection back', async () => {
      const failed = await failureOf(async (tx) => {
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (2)`;
        throw new Error('changed my mind');
      });
      expect(failed).toEqual(new Error('changed my mind'));
      expect(await ids()).toEqual([{ id: 1 }]);
      // The pool's one connection is free again, and out of the aborted transaction.
      expect(await directSql(single).$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    });

    it('rolls back a statement that fails, with the error Prisma would give', async () => {
      const failed = await failureOf(async (tx) => {
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (3)`;
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (1)`;
      });
      expect(failed).toMatchObject({
        code: 'P2010',
        meta: { driverAdapterError: { cause: { originalCode: '23505' } } },
      });
      expect(await ids()).toEqual([{ id: 1 }]);
    });

    it('bounds a statement by its timeout: cancelled and rolled back', async () => {
      const failed = await failureOf(async (tx) => {
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (4)`;
        await tx.$queryRaw`SELECT pg_sleep(5)`;
      }, 100);
      // 57014: canceling statement due to statement timeout.
      expect(failed).toMatchObject({
        meta: { driverAdapterError: { cause: { originalCode: '57014' } } },
      });
      expect(await ids()).toEqual([{ id: 1 }]);
    });

    it('does not report as committed a transaction a caught failure rolled back', async () => {
      const failed = await failureOf(async (tx) => {
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (5)`;
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (1)`.catch(() => undefined);
        return 'carried on';
      });
      expect(failed).toEqual(
        new Error('the transaction was rolled back: one of its statements failed'),
      );
      expect(await ids()).toEqual([{ id: 1 }]);
    });

    it('fails, and does not crash the process, when the server ends its session mid-way', async () => {
      const failed = await failureOf(async (tx) => {
        const [self] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        await direct.$queryRaw`SELECT pg_terminate_backend(${self?.pid}::int)`;
        // Until the backend is gone, so its end reaches the idle connection first.
        for (let i = 0; i < 400; i += 1) {
          const [alive] = await direct.$queryRaw<{ n: bigint }[]>`
            SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ${self?.pid}::int`;
          if (alive?.n === 0n) break;
        }
        await tx.$executeRaw`INSERT INTO direct_tx_t (id) VALUES (6)`;
      });
      expect(failed).toBeInstanceOf(Error);
      expect(await ids()).toEqual([{ id: 1 }]);
      // The dead connection was dropped: the pool opens a new one.
      expect(await directSql(single).$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    });

    it('runs the work through $transaction on a client it did not make', async () => {
      const calls: unknown[] = [];
      const stub = {
        $queryRaw: <T>() => Promise.resolve([] as T),
        $executeRaw: () => Promise.resolve(0),
        $transaction: <R>(work: (tx: never) => Promise<R>, options?: unknown) => {
          calls.push(options);
          return work(stub as never);
        },
      };
      expect(
        await directTransaction(stub, () => Promise.resolve('done'), { timeoutMs: 1234 }),
      ).toBe('done');
      expect(calls).toEqual([{ timeout: 1234 }]);
    });
  });

  it('hands back a client it did not make as it is', () => {
    const stub: RawStatements = {
      $queryRaw: <T>() => Promise.resolve([] as T),
      $executeRaw: () => Promise.resolve(0),
    };
    expect(directSql(stub)).toBe(stub);
  });
});
