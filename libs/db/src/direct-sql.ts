import pg from 'pg';

import { Prisma } from './generated/prisma/client.js';

/**
 * What a statement of the hot paths needs of the database: Prisma's raw-statement calls, with
 * Prisma's result types. A PrismaClient and an interactive transaction's client have them, and
 * so has `directSql()`'s runner (docs/architecture.md#direct-sql).
 */
export interface RawStatements {
  $queryRaw<T = unknown>(
    query: TemplateStringsArray | Prisma.Sql,
    ...values: unknown[]
  ): Promise<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number>;
}

/** The pool and statement names a client made by `createPrismaClient` runs on. */
interface Connection {
  pool: pg.Pool;
  statementName: (query: { sql: string }) => string;
  /**
   * The client's `$connect()`: the adapter takes the pool over when Prisma connects, so
   * `$disconnect()` ends it (and the adapter's handler of an idle connection's error is on it)
   * even when every statement so far went around Prisma.
   */
  connect: () => Promise<void>;
}

/** What a registered client runs its direct statements with. */
interface Registered extends Connection {
  /** Runs `connect` once, before the client's first direct statement or transaction. */
  ready: () => Promise<void>;
  runner: RawStatements;
}

const registered = new WeakMap<object, Registered>();

/** `createPrismaClient` registers the pool behind each client it makes. */
export function registerConnection(client: object, connection: Connection): void {
  const ready = connectOnce(connection);
  registered.set(client, {
    ...connection,
    ready,
    runner: new DirectSql(connection.pool, connection.statementName, ready),
  });
}

/**
 * Raw statements on the pool behind `client`, straight through node-postgres: the same SQL,
 * parameters, prepared-statement names, result types and errors as `client.$queryRaw`, without
 * Prisma's query pipeline around each call (~0.1 ms of CPU a statement, ~2.5 times the driver's
 * own; measured in docs/architecture.md#direct-sql). Only for statements outside an interactive
 * transaction: a transaction's statements go through its own client. A client made elsewhere
 * (a test's stub) is returned as it is.
 */
export function directSql(client: RawStatements): RawStatements {
  return registered.get(client)?.runner ?? client;
}

/** Where a runner's statements go: the pool, or one connection of it in a transaction. */
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

class DirectSql implements RawStatements {
  constructor(
    private readonly target: Queryable,
    private readonly statementName: Connection['statementName'],
    private readonly ready: () => Promise<void> = () => Promise.resolve(),
  ) {}

  async $queryRaw<T = unknown>(
    query: TemplateStringsArray | Prisma.Sql,
    ...values: unknown[]
  ): Promise<T> {
    return (await this.run(query, values)).rows as T;
  }

  async $executeRaw(
    query: TemplateStringsArray | Prisma.Sql,
    ...values: unknown[]
  ): Promise<number> {
    return (await this.run(query, values)).rowCount ?? 0;
  }

  private async run(
    query: TemplateStringsArray | Prisma.Sql,
    values: unknown[],
  ): Promise<pg.QueryResult> {
    const statement =
      query instanceof Prisma.Sql ? query : Prisma.sql(query, ...(values as Prisma.Sql[]));
    const text = statement.text;
    await this.ready();
    try {
      return await this.target.query({
        name: this.statementName({ sql: text }) || undefined,
        text,
        values: statement.values.map(parameter),
        types: PRISMA_TYPES,
      });
    } catch (error) {
      throw asPrismaError(error);
    }
  }
}

/** Runs the client's `$connect()` once, before the first statement (see `Connection.connect`). */
function connectOnce(connection: Connection): () => Promise<void> {
  let connected: Promise<void> | undefined;
  let done = false;
  return async () => {
    if (done) return;
    connected ??= connection.connect().then(() => {
      done = true;
    });
    await connected.catch((error: unknown) => {
      connected = undefined; // the next statement tries again
      throw error;
    });
  };
}

export interface DirectTransactionOptions {
  /**
   * Longest one statement, or a pause between two, may take; past it Postgres cancels the
   * statement or ends the session, and the transaction rolls back. Bounds what a stuck caller
   * holds (its locks, a pooled connection). Unlike Prisma's interactive-transaction timeout, it
   * does not bound the whole transaction, and waiting for a pooled connection is not bounded.
   */
  timeoutMs: number;
}

/**
 * `work` in one transaction on one connection of the client's pool, its statements straight
 * through node-postgres as `directSql` runs them: committed when `work` resolves, rolled back
 * when it throws. For a transaction whose statements are all raw (Prisma's interactive
 * transaction costs ~0.5 ms of CPU more; docs/architecture.md#direct-sql). A client made
 * elsewhere (a test's stub) runs it through its own `$transaction`.
 */
export async function directTransaction<T>(
  client: RawStatements & {
    $transaction<R>(
      work: (tx: Prisma.TransactionClient) => Promise<R>,
      options?: { timeout?: number; maxWait?: number },
    ): Promise<R>;
  },
  work: (tx: RawStatements) => Promise<T>,
  options: DirectTransactionOptions,
): Promise<T> {
  const connection = registered.get(client);
  if (!connection) return client.$transaction(work, { timeout: options.timeoutMs });
  await connection.ready();
  const session = await connection.pool.connect();
  // The server may end the session between two statements (the idle timeout below, a
  // terminated backend, a failover). The pool listens only to idle connections: without a
  // listener here, that 'error' event would be an uncaught exception. The statement waiting
  // next fails on the closed connection; the connection is never handed out again.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  session.on('error', onError);
  try {
    const ms = Math.max(1, Math.round(options.timeoutMs));
    await session.query(
      `BEGIN; SET LOCAL statement_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${ms}`,
    );
    const result = await work(new DirectSql(session, connection.statementName));
    // A transaction a failed statement aborted answers COMMIT with ROLLBACK, and no error:
    // work that caught that statement's error must not be reported as committed.
    const commit = await session.query('COMMIT');
    if (commit.command === 'ROLLBACK')
      throw new Error('the transaction was rolled back: one of its statements failed');
    return result;
  } catch (error) {
    if (!broken)
      await session.query('ROLLBACK').catch((rollbackError: unknown) => {
        // The session is gone or unusable: the pool must not hand it out again.
        broken ??=
          rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
    throw asPrismaError(error);
  } finally {
    session.off('error', onError);
    session.release(broken);
  }
}

/** Parameters as Prisma sends them: a Decimal as its digits, a Date as its UTC instant. */
function parameter(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Prisma.Decimal.isDecimal(value)) return value.toString();
  if (Array.isArray(value)) return value.map(parameter);
  return value;
}

/**
 * node-postgres' parsers, changed where Prisma's raw results differ: `bigint` for int8 (and
 * `count(*)`), `Decimal` for numeric, `timestamp` and `date` read as UTC, `time` as a Date on
 * 1970-01-01 UTC, bytea as a plain Uint8Array. `libs/db/test/direct-sql.test.ts`
 * holds the two to the same values.
 */
const OID = {
  int8: 20,
  int8Array: 1016,
  numeric: 1700,
  numericArray: 1231,
  timestamp: 1114,
  timestampArray: 1115,
  date: 1082,
  dateArray: 1182,
  time: 1083,
  timeArray: 1183,
  bytea: 17,
} as const;

/** node-postgres' own parser of a type (its typings name builtin scalars only). */
const builtinParser = pg.types.getTypeParser as (
  oid: number,
  format?: 'text' | 'binary',
) => (text: string) => unknown;

const parserOf = (oid: number) => builtinParser(oid, 'text');

/** node-postgres' parser of a text[] literal: the elements as strings, NULL as null. */
const textArray = parserOf(1009);

const arrayOf =
  (item: (text: string) => unknown) =>
  (text: string): unknown =>
    (textArray(text) as (string | null)[]).map((value) => (value === null ? null : item(value)));

const int8 = (text: string) => BigInt(text);
const numeric = (text: string) => new Prisma.Decimal(text);
const timestamp = (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
const date = (text: string) => new Date(`${text}T00:00:00Z`);
const time = (text: string) => new Date(`1970-01-01T${text}Z`);
const byteaParser = parserOf(OID.bytea);

const PARSERS = new Map<number, (text: string) => unknown>([
  [OID.int8, int8],
  [OID.int8Array, arrayOf(int8)],
  [OID.numeric, numeric],
  [OID.numericArray, arrayOf(numeric)],
  [OID.timestamp, timestamp],
  [OID.timestampArray, arrayOf(timestamp)],
  [OID.date, date],
  [OID.dateArray, arrayOf(date)],
  [OID.time, time],
  [OID.timeArray, arrayOf(time)],
  [OID.bytea, (text) => new Uint8Array(byteaParser(text) as Buffer)],
]);

const PRISMA_TYPES = {
  getTypeParser: ((oid: number, format: 'text' | 'binary' = 'text') =>
    (format === 'text' && PARSERS.get(oid)) ||
    builtinParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * A database error as Prisma reports a failed raw statement (P2010, the server's code and
 * message in `meta.driverAdapterError.cause`), so callers and logs see one shape whichever path
 * ran it. Errors without a server code (a refused connection) are rethrown as they are.
 */
function asPrismaError(error: unknown): unknown {
  if (!(error instanceof pg.DatabaseError) || !error.code) return error;
  return new Prisma.PrismaClientKnownRequestError(
    `Raw query failed. Code: \`${error.code}\`. Message: \`${error.message}\``,
    {
      code: 'P2010',
      clientVersion: Prisma.prismaVersion.client,
      meta: {
        driverAdapterError: {
          name: 'DriverAdapterError',
          cause: {
            originalCode: error.code,
            originalMessage: error.message,
            kind: 'postgres',
            code: error.code,
            severity: error.severity,
            message: error.message,
            ...(error.detail ? { detail: error.detail } : {}),
            ...(error.constraint ? { constraint: { index: error.constraint } } : {}),
          },
        },
      },
    },
  );
}
