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

const connections = new WeakMap<object, Connection>();
const runners = new WeakMap<object, RawStatements>();

/** `createPrismaClient` registers the pool behind each client it makes. */
export function registerConnection(client: object, connection: Connection): void {
  connections.set(client, connection);
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
  const connection = connections.get(client);
  if (!connection) return client;
  let runner = runners.get(client);
  if (!runner) {
    runner = new DirectSql(connection);
    runners.set(client, runner);
  }
  return runner;
}

class DirectSql implements RawStatements {
  private connected: Promise<void> | undefined;
  private isConnected = false;

  constructor(private readonly connection: Connection) {}

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
    if (!this.isConnected) {
      this.connected ??= this.connection.connect().then(() => {
        this.isConnected = true;
      });
      await this.connected.catch((error: unknown) => {
        this.connected = undefined; // the next statement tries again
        throw error;
      });
    }
    try {
      return await this.connection.pool.query({
        name: this.connection.statementName({ sql: text }) || undefined,
        text,
        values: statement.values.map(parameter),
        types: PRISMA_TYPES,
      });
    } catch (error) {
      throw asPrismaError(error);
    }
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
 * 1970-01-01 UTC, bytea as a plain Uint8Array. `directSql.spec` holds the two to the same values.
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

/** node-postgres' own text-format parser of a type (its types name builtin scalars only). */
function parserOf(oid: number): (text: string) => unknown {
  return (pg.types.getTypeParser as (oid: number, format: 'text') => (text: string) => unknown)(
    oid,
    'text',
  );
}

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
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' && PARSERS.has(oid)
      ? PARSERS.get(oid)
      : (pg.types.getTypeParser as (oid: number, format: string) => unknown)(
          oid,
          format ?? 'text',
        )) as pg.CustomTypesConfig['getTypeParser'],
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
