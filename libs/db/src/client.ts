import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

import { registerConnection } from './direct-sql.js';
import { PrismaClient } from './generated/prisma/client.js';
import { statementNames } from './statement-names.js';

export interface CreatePrismaClientOptions {
  databaseUrl: string;
  /** Connections in the pg pool. Prisma's own default (5 on 2 cores) starves concurrent workers. */
  poolSize?: number;
  /**
   * The connections' `application_name` (`roam-scheduler`): what `pg_stat_activity`, the
   * server's logs and lock waits name them by. An `application_name` in the URL wins.
   */
  applicationName?: string;
}

export const DEFAULT_POOL_SIZE = 10;

/** How long a pooled connection may sit idle before it is closed. */
export const IDLE_CONNECTION_MS = 60_000;

/**
 * A PrismaClient over node-postgres (Prisma 7 has no native query engine: the driver adapter is
 * the connection). The caller owns it and must `$disconnect()` it, which also ends the pool.
 */
export function createPrismaClient(options: CreatePrismaClientOptions): PrismaClient {
  // The pool is made here, not by the adapter, so `directSql()` can run statements on it too.
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    // node-postgres closes a connection idle for 10 s; between a burst's waves the pools
    // shrank and opened sessions again, each paying SCRAM authentication and warming its
    // plans, prepared statements and trigger functions anew.
    idleTimeoutMillis: IDLE_CONNECTION_MS,
    // node-postgres lets an `application_name` in the connection string win over this one.
    ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
    // Every session in UTC, whatever the server's or the database's TimeZone: Prisma's adapter
    // sends a Date without an offset and reads a timestamptz without its offset, so its times
    // are right only in a UTC session (and directSql's agree with them only there). The pool
    // hands a new connection out only once this has run; when it fails, the connection is
    // closed and the statement that asked for it fails.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- pg-pool awaits the promise (@types/pg says void)
    onConnect: (connection) => connection.query("SET TIME ZONE 'UTC'"),
  });
  // Prepared once per connection, only statements whose result shape no migration can change.
  const statementName = statementNames();
  const adapter = new PrismaPg(pool, {
    statementNameGenerator: statementName,
    // `$disconnect()` ends the pool, as it did when the adapter made it.
    disposeExternalPool: true,
  });
  // 'minimal': the default formats capture a `new Error()` call site on every query, only to
  // quote the caller's source line in a failed query's message; that was ~1.3% of the gateway's
  // CPU per submit. Errors keep their code, message and (async) stack.
  const client = new PrismaClient({ adapter, errorFormat: 'minimal' });
  registerConnection(client, { pool, statementName, connect: () => client.$connect() });
  return client;
}
